// Package workflow chains connector calls into pipelines and runs them
// reliably over the items of a source.
package workflow
