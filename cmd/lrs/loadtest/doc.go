// Package loadtest measures the LRS: it drives a running server over HTTP
// with concurrent clients and reports statements per second and latency
// percentiles for single-statement POSTs, batched POSTs and statement
// queries by agent and by activity over a large store, next to the raw
// insert rate of the same storage backend (the same rows written straight
// through the statements.Store, without HTTP or validation), which is the
// ceiling the HTTP figures are compared with.
//
// Run is the whole benchmark; the command "lrs bench" is its front end.
// Without a URL, Run starts the real server (package lrs) in-process on a
// loopback port, as the caller wires it (Config.Server: "lrs bench" passes
// the wiring of "lrs serve"), so one command reproduces every figure of
// the service as it runs. Statements come from Generator: realistic, about 1.2 KB each, and
// deterministic for a seed.
//
// A benchmark that gets errors measures nothing: every response is checked
// (status, number of ids, non-empty query pages that match the filter) and
// Run fails when any request failed.
package loadtest
