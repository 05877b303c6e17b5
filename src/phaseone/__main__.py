from phaseone.cli import main

main()
