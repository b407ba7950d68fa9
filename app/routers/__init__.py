"""HTTP routers: parse, authorise, call the workflow, shape the response."""
