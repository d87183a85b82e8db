// Placeholder entry point; the command line lands with the agent host.
return 0;
