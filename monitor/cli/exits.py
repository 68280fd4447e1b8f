"""Exit codes shared by the commands (sysexits.h, as scripts and systemd expect them)."""

EX_DATAERR = 65  # an input file or line could not be read as items
EX_CONFIG = 78  # the configuration is invalid: ExecStartPre fails, systemd does not restart in a loop
