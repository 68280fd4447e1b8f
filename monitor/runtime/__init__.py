"""Running the program: the daemon on APScheduler, systemd notify, the wiring of the concrete dependencies,
the configuration with every check, and logging set-up."""
