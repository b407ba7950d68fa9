"""The rules of R1, R2 and R3.5, one module per question the notice answers.

``facts`` holds what the rules read, ``who`` decides whether the applicant
belongs to a group that may be helped (R1), ``limits`` how often and from
which pool (R2.1, R2.4, R2.5), ``approval`` who approves (R3.5). The amount
caps R2.2 and R2.3 live in ``app.domain.caps``; ``app.domain.eligibility``
puts them all together.
"""
