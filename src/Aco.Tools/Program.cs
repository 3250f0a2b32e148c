using Aco.Tools;

// dotnet-aco: see README.md. Exit codes: 0 done, 1 the process could not be asked or did not answer, 2 bad usage.
return await DumpCommand.MainAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
