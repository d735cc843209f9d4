// Package contract is the vocabulary the control plane and the media
// worker share, and nothing else: what a composition is made of
// ([CompositionSpec], [DestinationSpec], [EncoderSpec]), how the control
// plane starts one ([PipelineFactory]), changes its layout while it runs and
// stops it ([Pipeline]), how the running composition reports back
// ([Reporter]), and the states both sides name ([State]).
//
// The control plane (package control) validates API requests into specs,
// drives each composition's lifecycle and owns what the API shows; the worker
// turns a spec into media and reports through the Reporter. Neither imports
// the other: both import this package, which imports only the layout
// vocabulary. Destinations in package output report the same [State] values.
package contract
