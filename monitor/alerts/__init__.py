"""What to tell whom, and when: pure decisions the pipeline asks for, with no I/O and no clock of their own.

`policy` decides first alerts and updates per (watch, story); `routing` which channel an alert reaches and
whether it goes now or is held; `windows` the quiet hours and rate limits it is held for; `schedule` the
digest cron schedules; `digest` what a digest holds; `retry` when a failed delivery is tried again.
"""
