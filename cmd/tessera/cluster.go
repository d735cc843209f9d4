package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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

// clusterTokenKey returns the cluster's participant-token key from st,
// storing a new one when there is none yet.
func clusterTokenKey(ctx context.Context, st *store.Store) (*ingest.TokenKey, error) {
	var doc struct {
		PEM string `json:"pem"`
	}
	r, err := st.Get(ctx, clusterTokenKeyARN)
	if errors.Is(err, store.ErrNotFound) {
		k, kerr := ingest.NewTokenKey()
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
