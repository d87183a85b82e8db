global using Xunit;

// One PostgreSQL server and at most one agent at a time: CI has 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
