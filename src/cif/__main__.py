from cif.cli import main

main()
