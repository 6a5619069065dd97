"""The fast worker (`bench async-jobs worker`): launch (start it), worker (the supervisor, an RQ worker),
child_process (the supervisor's side of a child), child (the long-lived child that performs jobs), db_pool
(connections kept per site between jobs).

May import: ledger, run (the monitor's thread name), and nothing of the engine above run.
"""
