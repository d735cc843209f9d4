// Package hlsjs holds hls.js, the HLS player for browsers without native
// HLS, vendored into the binary so that nothing is fetched from outside at
// run time: the console plays recordings with it and the tests' HLS
// player page runs the same copy.
//
// Script is dist/hls.min.js of the npm package hls.js at Version, unchanged
// (its tarball's SHA-512 in Subresource Integrity form is TarballIntegrity,
// as the npm registry publishes it); License is the package's LICENSE
// (Apache License 2.0), served beside the script.
package hlsjs

import _ "embed"

// Version is the hls.js release vendored here.
const Version = "1.7.4"

// TarballIntegrity is the npm registry's integrity of the hls.js Version
// tarball the files were taken from.
const TarballIntegrity = "sha512-3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="

// Script is hls.min.js.
//
//go:embed hls.min.js
var Script []byte

// License is hls.js's LICENSE file.
//
//go:embed LICENSE
var License []byte
