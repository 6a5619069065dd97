"""Is the site healthy? watchdog (the scheduler and its scheduled jobs), queues (backlog, waits, workers, the
failure rate), alerts (opened once, cleared when gone, announced), recipients (who hears about it).

May import: ledger, transport, submit.
"""
