"""The embedded workflow runtime: bundles executed with AG2, streamed over Channels."""
