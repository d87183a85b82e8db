global using Xunit;

// Tests run agent processes and a Prometheus server: one test at a time keeps a 2-core machine usable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
