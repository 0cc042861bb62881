// One `import BackgroundJobs` gives an application the whole library.
@_exported public import BackgroundJobsCore
@_exported public import BackgroundJobsDomain
@_exported public import BackgroundJobsPrometheus
@_exported public import BackgroundJobsRedis
