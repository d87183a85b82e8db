global using Xunit;
global using Record = EdgeStream.Records.Record;

// The integration tests run up to three agents and a sender each: one test at a time keeps a 2-core machine usable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
