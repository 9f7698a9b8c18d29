"""The DA disperser: 0G DA client's gRPC `disperser.Disperser` API over our DA layer (`zg da disperser start`)."""
