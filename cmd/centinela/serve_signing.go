package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
)

// signingOptions are the MAVLink 2 signing flags of serve and sim: keys by
// system id ("SYSID=HEX", repeatable) and a key file of such lines. sim also
// takes a bare HEX key for every drone (system id 0 below). serve reads
// them into a server.SigningConfig (signingFlags).
type signingOptions struct {
	Keys []string
	File string
	// all allows a bare HEX key (sim).
	all bool
}

// register adds --signing-key and --signing-key-file to fs.
func (o *signingOptions) register(fs *flag.FlagSet) {
	usage := "MAVLink 2 signing key of a drone as `SYSID=HEX` (64 hex digits), repeatable: its link is signed"
	if o.all {
		usage = "MAVLink 2 signing key as `HEX` (64 hex digits) for every drone, or SYSID=HEX for one, repeatable: the drone signs and drops unsigned input"
	}
	fs.Var((*stringList)(&o.Keys), "signing-key", usage)
	fs.StringVar(&o.File, "signing-key-file", o.File, "`file` of signing keys, one SYSID=HEX a line (# comments); keep it readable by the server only")
}

// keys parses the flags and the file into keys by system id. Errors name
// the flag or the file line, never the key.
func (o signingOptions) keys() (map[uint8]fleet.SigningKey, error) {
	out := map[uint8]fleet.SigningKey{}
	add := func(where, spec string) error {
		sys, hex, ok := strings.Cut(spec, "=")
		n := 0
		if !ok {
			if !o.all {
				return msgErr("flagerr.signing_form", "where", where)
			}
			hex = sys
		} else {
			v, err := strconv.Atoi(strings.TrimSpace(sys))
			if err != nil || v < 1 || v > 254 {
				return msgErr("flagerr.signing_sysid", "where", where)
			}
			n = v
		}
		k, err := fleet.ParseSigningKey(hex)
		if err != nil {
			// fleet's only refusal: not 64 hexadecimal digits.
			return msgErr("flagerr.signing_hex", "where", where)
		}
		if _, dup := out[uint8(n)]; dup {
			return msgErr("flagerr.signing_dup", "where", where, "sysid", strconv.Itoa(n))
		}
		out[uint8(n)] = k
		return nil
	}
	for i, spec := range o.Keys {
		if err := add(fmt.Sprintf("--signing-key #%d", i+1), spec); err != nil {
			return nil, err
		}
	}
	if o.File != "" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, fileErr("--signing-key-file", err)
		}
		defer f.Close()
		ks, err := fleet.ReadSigningKeys(f, "--signing-key-file "+o.File)
		if err != nil {
			return nil, err
		}
		for sys, k := range ks {
			if _, dup := out[sys]; dup {
				return nil, msgErr("flagerr.signing_dup", "where", "--signing-key-file "+o.File, "sysid", strconv.Itoa(int(sys)))
			}
			out[sys] = k
		}
	}
	return out, nil
}

// signingFlags adds --signing-key and --signing-key-file to fs for c. The
// function it returns parses the keys into c after fs.Parse: a flag's own
// error would show the key.
func signingFlags(fs *flag.FlagSet, c *server.SigningConfig) (finish func() error) {
	o := &signingOptions{File: c.File}
	o.register(fs)
	return func() error {
		keys, err := signingOptions{Keys: o.Keys}.keys()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			c.Keys = keys
		}
		c.File = o.File
		return nil
	}
}

// simKeys returns the keys in the simulator's form.
func (o signingOptions) simKeys() (map[uint8][]byte, error) {
	ks, err := o.keys()
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	out := make(map[uint8][]byte, len(ks))
	for sys, k := range ks {
		out[sys] = append([]byte(nil), k[:]...)
	}
	return out, nil
}
