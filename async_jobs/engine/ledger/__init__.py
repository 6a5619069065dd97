"""The ledger: the Async Job rows and their one status writer.

status (states, transitions), lifecycle (the only status writer; counts a batch child's end in the same
transaction), attempts (the attempt log), errors (exceptions that steer a job), arguments (encrypted for
re-enqueueing), redact (the readable copy), side_db (writes made while a job runs), settings (the one settings
loader). Imports nothing else of the engine.
"""
