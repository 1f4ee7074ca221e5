"""The command line: parses flags and wires the stages together; no logic of its own."""
