package control

import "github.com/tessera-media/tessera/control/wire"

// APIModel returns the model of the API this server serves as one botocore
// service-2.json document: IVS's ivs-realtime model, its metadata
// unchanged, with Tessera's extension operations (UpdateComposition,
// CreateViewerToken) merged in. Given to the AWS CLI (`aws configure
// add-model --service-model file://model.json --service-name
// ivs-realtime-tessera`), it lets the CLI call the extensions too.
func APIModel() ([]byte, error) { return wire.Document() }
