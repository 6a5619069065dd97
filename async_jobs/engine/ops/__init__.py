"""Operations: prune (retention), digest and report (mails) with stats, stager (the bench-wide process that stages
delayed jobs and runs the lifeline and the watchdog), operations (the scheduler tasks' switches), install.

May import: every room before it (ledger … health).
"""
