"""Read models for the API and the Desk: jobs (summaries, lists, browser starts), dashboard (the Job Monitor's
data), waiting (why a waiting job waits).

May import: every room before it.
"""
