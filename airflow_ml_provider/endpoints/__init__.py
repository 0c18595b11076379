"""Published pipelines: endpoints with numbered versions, each freezing a DAG version and a
pipeline digest (Azure ML's PublishedPipeline and PipelineEndpoint)."""
