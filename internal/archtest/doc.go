// Package archtest holds no code; its test enforces the import rules of
// docs/ARCHITECTURE.md: which of Tessera's packages may import which.
package archtest
