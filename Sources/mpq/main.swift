import MPQCommands
import MPQExecutor

AllocationPolicy.reuseLargeBuffers()
MPQCommand.main()
