// Package control is the ivs-realtime API server: it verifies SigV4
// requests, decodes and validates them against the embedded API model,
// persists resources in the store, issues participant tokens, keeps stage
// sessions and participant records from ingest's events, and drives every
// composition's lifecycle, starting its media side through a
// contract.PipelineFactory. On the wire it is Amazon IVS Real-Time as AWS
// serves it.
//
// # What it serves
//
// Server is an http.Handler for the ivs-realtime rest-json API. A request
// is verified (SigV4, service "ivs", Config.Credentials; control/sigv4),
// routed and decoded by AWS's own API model (control/wire), and run by its
// operation: stages (Create, Get, List, Update, Delete), participant tokens
// (CreateParticipantToken, and CreateStage's participantTokenConfigurations),
// participants and their events (ListParticipants, GetParticipant,
// ListParticipantEvents, DisconnectParticipant), encoder and storage
// configurations (Create, Get, List, Delete), compositions (Start, Get, List,
// Stop), stage sessions (GetStageSession, ListStageSessions), public keys
// (Import, Get, List, Delete), ingest configurations (Create, Get, List,
// Update, Delete) and tags (TagResource, UntagResource,
// ListTagsForResource). The model's other operations (participant
// replication) are refused with AccessDeniedException naming the
// operation. Every response, errors
// included, carries an x-amzn-RequestId (a UUID, the SDKs' request id),
// which the request's log lines name.
//
// # Participant tokens
//
// CreateParticipantToken (and CreateStage) sign tokens with the server's
// key (Config.TokenKey). Applications may also sign their own, as IVS has
// them do: an ECDSA P-384 key pair whose public key is imported with
// ImportPublicKey (at most Quotas.PublicKeys, default 3, as IVS; the key
// must be P-384 SubjectPublicKeyInfo PEM, else ValidationException; the
// same key twice is a ConflictException; the fingerprint is the MD5 digest
// of the DER key as 16 colon-separated hex bytes). Imported keys are kept in
// the store and in ingest's key set (ingest.PublicKeys), under their ARN,
// which is the kid of the tokens they sign; ingest verifies such tokens
// under IVS's rules for self-signed tokens (see ingest). DeletePublicKey
// takes the key out of the set before it answers: tokens signed with it
// are refused from then on, participants already connected stay.
//
// # Ingest configurations
//
// An ingest configuration (CreateIngestConfiguration) is a stream key
// rt_<account>_<region>_<id>_<secret> (32 random characters) with which an
// RTMP(S) publisher joins its stage as participant participantId (fixed,
// with the configuration's userId and attributes). Configurations are kept
// in the store and in ingest's set (ingest.IngestKeys), which every change
// reaches before its operation answers; New loads them. The state is read
// from the set on every read: ACTIVE while the key publishes. RTMP needs
// insecureIngest (not echoed, as IVS), else ValidationException;
// redundantIngest is refused; stageArn is "" or an existing stage's.
// UpdateIngestConfiguration (stageArn) and DeleteIngestConfiguration
// without force are a ConflictException while ACTIVE; a forced delete ends
// the publish. DeleteStage, and DisconnectParticipant of a configuration's
// participant, set its stageArn to "" (the publish ends; attaching it again
// lets it back). Stages show Config.RTMPURL and Config.RTMPSURL as
// endpoints.rtmp and endpoints.rtmps.
//
// An operation is declared once, as op(handler) with typed input and output
// (api.go): the model decodes and validates the input, the handler gets it
// as its request type (types_*.go) and returns its response type, which is
// the JSON body.
//
// # What it persists
//
// Every resource lives in the store (control/store, Config.Store) as its
// API document — the wire type as JSON — with its tags: stages (with their
// active session), encoder and storage configurations, compositions (state
// and destination states kept current while they run), stage sessions and,
// per stage session, participant records and their events, recorded from
// ingest's participant events (sessions.go). A stage session starts with
// its stage's first participant event and ends Timeouts.SessionEnd after
// its last connected participant left, unless one joins before. A resource is stored before the
// response that announces it. The server rewrites a liveness mark
// about once a second (heartbeat.go). New reopens every stored stage on ingest,
// takes up the stage sessions left open (participants a crash left
// CONNECTED become DISCONNECTED, with LEFT events at the last liveness
// mark, and their individual recordings left running FAILED; a session
// whose end has passed is ended at that end, the others keep the rest of
// their time) and marks compositions that were running when the server
// stopped FAILED, ended at the last liveness mark; their recording
// destinations go, in the background, to Config.FinalizeRecordings (the
// worker finalizes from storage those whose work files are not on this
// server).
// StartComposition is refused (ServiceQuotaExceededException naming the
// capacity) when package capacity's estimate of the running compositions,
// the publishers and the new composition passes Config.CapacityCores;
// tessera_node_* export the estimated load (load.go).
// Ended compositions are deleted after Timeouts.Retention.
//
// # How compositions are driven
//
// StartComposition resolves the request into a contract.CompositionSpec
// (layout with its defaults, each destination's channel URL from
// Config.Channels or bucket and recording prefix, encoder settings, segment
// and thumbnail intervals) and hands it to Config.Pipelines, a
// contract.PipelineFactory, with a contract.Reporter through which the
// pipeline reports the composition active, its destinations' states and
// its failure. Control owns the lifecycle (lifecycle.go): STARTING →
// ACTIVE → STOPPING → STOPPED, or FAILED; it stops a composition on
// StopComposition, on DeleteStage, when nobody published for
// Timeouts.NoPublisher after the start or for Timeouts.Idle after the last
// publisher left, when every destination failed, at Timeouts.MaxDuration,
// and on Close, and bounds the pipeline's Stop by Timeouts.StopTimeout.
// Every change is saved and sent as an "IVS Composition State Change"
// event.
//
// UpdateComposition, a Tessera extension, changes the layout of a STARTING
// or ACTIVE composition (else ConflictException): resolved as
// StartComposition's (resolveLayout), saved in the composition's document,
// then given to its pipeline (contract.Pipeline's SetLayout; a pipeline
// still starting gets it once started), in the order the changes were
// saved.
//
// # Individual participant recordings
//
// On a stage whose autoParticipantRecordingConfiguration names a storage
// configuration, every publish is recorded through
// Config.ParticipantRecorders (a contract.ParticipantRecorderFactory) under
// <stageId>/<sessionId>/<participantId>/<start time> in its bucket
// (participant_recordings.go, participant_recording_table.go). The
// participant record shows the recording's recordingState, bucket and
// prefix: STARTING (registered before the publish's event is done with, so
// a stop during the start is kept: the recording is stopped as soon as the
// recorder returns), ACTIVE (the recorder reported it), STOPPING (the
// reconnect window, or finalizing), then STOPPED, or FAILED (the recorder
// did not start, or storage did not get it); DISABLED with "" bucket and
// prefix on a stage that records nobody (or with mediaTypes NONE). A
// publish ends with PUBLISH_STOPPED or LEFT: with
// recordingReconnectWindowSeconds 0 the recording is finalized at once,
// else when the window ends, unless the participant publishes again in it
// (same session, same storage configuration): then the recording is
// resumed (ParticipantRecording.Resume; same prefix, ACTIVE again), or, if
// Resume fails (counted), finalized and a new one started. DeleteStage and
// Close finalize at once, windows or not; every call into a recording is
// bounded and owned by the server. UpdateStage cannot change
// autoParticipantRecordingConfiguration while a participant of the stage
// is recorded, nor DeleteStorageConfiguration delete a storage
// configuration a stage's autoParticipantRecordingConfiguration names
// (ConflictException). ListParticipants filters by recordingState.
//
// # Events
//
// Events are EventBridge-shaped JSON as IVS sends them (events.go):
// "IVS Composition State Change" (resources: the composition), "IVS
// Stage Update" (resources: the stage; Participant Published, Participant
// Unpublished, Participant Publish Error, Token Exchanged, with the
// session, participant, user, event time and error code) and "IVS
// Participant Recording State Change" (resources: the stage; Recording
// Start when ACTIVE, Recording End when STOPPED, after the reconnect
// window, Recording Start Failure, Recording End Failure, with the
// session, participant, bucket and key prefix). The Notifier
// (notifier.go) posts them to Config.Webhooks: a stage's events in the
// order they happened, each tried a bounded number of times, signed with
// Config.WebhookSecret (signature.go: HMAC-SHA256 over the timestamp and
// the body, verified by VerifyWebhook), counted in Prometheus.
//
// # Several nodes on one store
//
// With Config.Node, the server is one node of a cluster sharing a
// PostgreSQL store (cluster.go): it keeps its membership alive, serves
// the stages it is placed on (their ingest side, their compositions) and
// takes over the work of nodes whose membership ran out; the other nodes'
// WHIP offers for its stages are redirected to it (ingest's Route =
// RouteStage) and their calls that act on live media forwarded to it
// (forward.go). A node that cannot tell it is still a member is Fenced: it
// saves nothing, and its storage must refuse writes. Guarantees: a stage is
// served by at most one node whose membership is known valid; a node is
// taken for dead only after its membership ran out and its taker has been
// a member for a TTL without a break; a dead node's compositions end
// FAILED at its last renewal, their recordings finalized from storage.
//
// # What it guarantees
//
//   - IVS's error shapes: every refusal is an error type of the model (or
//     one AWS sends without modelling it) with the model's HTTP status, the
//     X-Amzn-Errortype header and a JSON body with message and
//     exceptionMessage, so the AWS SDKs and CLI raise their typed errors;
//     validation failures carry AWS's messages (see control/wire), failed
//     signatures AWS's authentication errors.
//   - Every request member is honoured or refused, never silently dropped:
//     what the model cannot express (even video sizes, at most one channel
//     and one s3 destination, one encoder configuration per s3 destination,
//     a channel ARN Config.Channels does not know) is a ValidationException
//     or ResourceNotFoundException; defaults are applied here and echoed in
//     the response; filters the model says are exclusive (ListParticipants',
//     ListIngestConfigurations') are a ValidationException when combined.
//     Members the server does not support yet (redundantIngest; and
//     autoParticipantRecordingConfiguration naming a storage configuration
//     on a server without Config.ParticipantRecorders) are a
//     ValidationException naming the member (notSupported). A test walks
//     the model: every input member of every served operation is honoured
//     or refused so.
//   - Response members Tessera knows are filled: a participant's protocol
//     (WHIP, or RTMP/RTMPS with its ingestConfigurationArn) and its client
//     (browserName, browserVersion, osName, osVersion, sdkVersion) read
//     from its WHIP offer's User-Agent (useragent.go); TOKEN_EXCHANGED
//     events carry previousToken and newToken.
//   - Responses carry exactly the members IVS sends: optional members are
//     left out when unset, lists and tags are [] and {}, never null.
//   - Idempotency: a StartComposition repeated with its idempotencyToken
//     returns the composition the first one started (before any quota
//     applies); the same token with a different request, or for a
//     composition that no longer exists, is a ConflictException. The token is
//     stored with the composition, in one transaction.
//   - Quotas (Config.Quotas, IVS's defaults): stages, encoder and storage
//     configurations, public keys, ingest configurations, compositions
//     running at once and per stage; past one,
//     ServiceQuotaExceededException. A resource has at most 50 tags, a
//     participant token at most 1 KB of attributes.
//   - A state change is visible when its operation answered: once
//     StopComposition (or DeleteStage) returned, Get and List show the
//     composition STOPPING or STOPPED; once DisconnectParticipant returned,
//     the participant is DISCONNECTED.
//   - An encoder or storage configuration a STARTING or ACTIVE composition
//     uses cannot be deleted (ConflictException); once StopComposition
//     answered, it can. Nor can a storage configuration a stage's
//     autoParticipantRecordingConfiguration names.
//   - The edge: a request is authenticated before its body is buffered
//     when it signs its payload hash, and otherwise read only as it arrives
//     within a shared budget (see control/sigv4); per-access-key,
//     per-operation rate limits answer ThrottlingException; refusals are
//     counted and logged at a bounded rate.
package control
