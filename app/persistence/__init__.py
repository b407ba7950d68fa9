"""Tables, the engine and the request's unit of work."""
