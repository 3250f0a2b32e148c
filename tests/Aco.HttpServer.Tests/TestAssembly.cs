// One server test at a time: several tests open thousands of connections, and on a 2-core machine tests running
// side by side would only slow each other down.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
