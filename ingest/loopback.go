package ingest

import (
	"net"
)

// loopbackConn drops datagrams from anywhere but the loopback network, so
// a server limited to one machine never answers (or sends media towards)
// any other address, even when a browser on the machine sends ICE checks
// from its other interfaces to 127.0.0.1.
type loopbackConn struct {
	net.PacketConn
}

func (c loopbackConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		if ua, ok := addr.(*net.UDPAddr); ok && ua.IP.IsLoopback() {
			return n, addr, nil
		}
	}
}
