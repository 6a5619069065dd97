"""Jobs that wait for others: `enqueue(..., after=[jobs or batches])` and `chain([...])` (plan.py, the enqueue
side), their release when the last parent ends (release.py) and what the Desk shows of chains (view.py)."""
