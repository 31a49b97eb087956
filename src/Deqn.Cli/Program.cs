return Deqn.Cli.Entry.Run(args);
