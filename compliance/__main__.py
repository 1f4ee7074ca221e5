from compliance.cli.main import run

run()
