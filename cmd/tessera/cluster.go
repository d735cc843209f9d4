package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/ingest"
)

// The participant-token key of a cluster is shared: a token that one node
// issued is verified by the node its publisher lands on. It is kept in the
// shared store, made by the first node that needs it.
const (
	clusterTokenKeyARN  = "tessera:cluster/token-key"
	clusterTokenKeyKind = "cluster-secret"
)

// clusterTokenKey returns the cluster's participant-token key from st.
// When there is none yet, it stores the key of the file at local (a server
// that was alone on its store: the tokens it issued stay valid), or a new
// one.
func clusterTokenKey(ctx context.Context, st *store.Store, local string) (*ingest.TokenKey, error) {
	var doc struct {
		PEM string `json:"pem"`
	}
	r, err := st.Get(ctx, clusterTokenKeyARN)
	if errors.Is(err, store.ErrNotFound) {
		var k *ingest.TokenKey
		var kerr error
		if b, rerr := os.ReadFile(local); rerr == nil {
			k, kerr = ingest.ParseTokenKey(b)
		} else {
			k, kerr = ingest.NewTokenKey()
		}
		if kerr != nil {
			return nil, kerr
		}
		pem, kerr := k.MarshalPEM()
		if kerr != nil {
			return nil, kerr
		}
		doc.PEM = string(pem)
		b, _ := json.Marshal(doc)
		r, err = st.Create(ctx, store.Resource{ARN: clusterTokenKeyARN, Kind: clusterTokenKeyKind, Doc: b})
		if errors.Is(err, store.ErrConflict) { // another node made it first
			r, err = st.Get(ctx, clusterTokenKeyARN)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the cluster's token key: %w", err)
	}
	if err := json.Unmarshal(r.Doc, &doc); err != nil {
		return nil, fmt.Errorf("the cluster's token key: %w", err)
	}
	return ingest.ParseTokenKey([]byte(doc.PEM))
}
