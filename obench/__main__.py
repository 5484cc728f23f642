from obench import main

main()
