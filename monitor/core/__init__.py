"""What every stage shares and nothing else: the item, severity levels, the error tree, the clock, the
process's identity, the secret scrubber and the did-you-mean hint. Imports nothing of the program's own."""
