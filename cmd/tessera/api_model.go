package main

import (
	"fmt"
	"io"

	"github.com/tessera-media/tessera/control"
)

// apiModel is `tessera api-model`: it writes the API's model (IVS's
// ivs-realtime model with Tessera's extension operations merged in, as one
// botocore service-2.json) to w, for `aws configure add-model`.
func apiModel(args []string, w io.Writer) error {
	fs := newFlagSet("tessera api-model")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: tessera api-model > model.json

Prints the API's model: the ivs-realtime model with Tessera's extensions
(UpdateComposition, CreateViewerToken). To call them with the AWS CLI:

  aws configure add-model --service-model file://model.json --service-name ivs-realtime-tessera
  aws ivs-realtime-tessera update-composition --endpoint-url http://127.0.0.1:8080 --arn <composition> --layout '{"pip":{}}'
`)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	doc, err := control.APIModel()
	if err != nil {
		return err
	}
	if _, err := w.Write(doc); err != nil {
		return err
	}
	_, err = fmt.Fprintln(w)
	return err
}
