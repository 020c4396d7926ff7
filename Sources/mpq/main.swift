import MPQCommands
MPQCommand.main()
