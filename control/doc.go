// Package control is the ivs-realtime API server: it verifies SigV4
// requests, decodes and validates them against the embedded API model,
// persists resources in the store, issues participant tokens, keeps stage
// sessions and participant records from ingest's events, and drives every
// composition's lifecycle, starting its media side through a
// contract.PipelineFactory.
package control
