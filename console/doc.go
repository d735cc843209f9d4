// Package console is the web console of tessera serve: one page (plain
// HTML, CSS and JavaScript embedded in the binary) to sign in with an API
// access key, manage stages, publish this browser's camera or screen to a
// stage by WHIP, start and stop compositions, watch a running one live by
// WHEP (with a viewer token from CreateViewerToken) and change its layout
// (UpdateComposition), and play recordings.
//
// The contract:
//
//   - GET / is the page; its assets are under /console/assets/. Everything
//     else lives under /console/, whose paths no API operation uses (the
//     API's are POST /<Operation> and /tags/…).
//   - POST /console/signin takes {"accessKeyId", "secretAccessKey"} as JSON,
//     checks them against the API's credentials (control.CheckCredentials)
//     and opens a session: a random 256-bit id in an HttpOnly,
//     SameSite=Strict cookie (Secure over TLS, or always with
//     Config.SecureCookies), held in memory
//     for Config.SessionTTL, at most Config.MaxSessions at once (the one
//     that expires first gives way). Attempts are limited per client
//     address (429 with Retry-After). GET /console/signin says whether the
//     server runs with the development credentials, and which.
//   - Every other endpoint needs the session (401 otherwise) and every POST
//     also its CSRF token in the X-CSRF-Token header (403 otherwise):
//     GET /console/session (the token, the access key id, the configured
//     channel ARNs), POST /console/signout, POST /console/api/{Operation}
//     (the ivs-realtime operation run in-process as the signed-in access
//     key by control.Invoke: the same validation, response and error JSON
//     as the signed API), GET /console/stats?stageArn= (ingest's
//     counters for the stage's publishers) and GET
//     /console/recordings?storage=<arn>[&after=<key>]: the recordings in
//     the storage configuration's bucket (GetStorageConfiguration as the
//     session's key), found by their events/recording-*.json objects
//     through Config.Recordings, newest first among at most 10 000
//     objects read per request, "next" naming where the following request
//     starts.
//   - GET /console/recordings/media/{storage configuration id}/{key} serves
//     one object of a recording (playlists, segments, thumbnails, events)
//     from the bucket of a storage configuration the session listed (404
//     otherwise, and for other kinds of object): the page plays recordings
//     through it with hls.js, which GET /console/assets/hls.min.js serves
//     from the binary (internal/hlsjs; its licence beside it).
//
// Sessions live in memory: a restart signs everybody out.
package console
