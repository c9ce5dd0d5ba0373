package server

import (
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/sim"
)

// The built-in agencies: one of each country and a binational task force.
const (
	// AgencyUS is the built-in US agency (jurisdiction US).
	AgencyUS = "us-agency"
	// AgencyMX is the built-in Mexican agency (jurisdiction MX).
	AgencyMX = "mx-agency"
	// AgencyJoint is the built-in binational joint task force (US, MX and
	// JOINT), the default agency of drones.
	AgencyJoint = "joint-task-force"
)

// BuiltinAgencies returns the built-in agencies: AgencyUS, AgencyMX and
// AgencyJoint.
func BuiltinAgencies() []geofence.Agency {
	return []geofence.Agency{
		{ID: AgencyUS, Name: "US agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		{ID: AgencyMX, Name: "Mexican agency", Jurisdictions: []geofence.Jurisdiction{geofence.MX}},
		{ID: AgencyJoint, Name: "Binational joint task force", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}},
	}
}

// Config is the configuration of a server: what "centinela serve" builds
// from its flags. Begin with DefaultConfig and change what is needed;
// Validate (which Start calls) says what is wrong.
type Config struct {
	// MAVLink lists the endpoints to reach drones on, in the MAVProxy
	// convention: "udp:HOST:PORT" listens, "udpout:HOST:PORT" sends,
	// "tcp:HOST:PORT" connects, "tcpin:HOST:PORT" listens,
	// "serial:DEVICE:BAUD" (see mavlink.ParseEndpoint). A port 0 listens on
	// a free port: Server.MAVLinkAddr says which.
	MAVLink []string
	// SysID and CompID identify the server on MAVLink (1..255; default
	// mavlink.DefaultSysID and DefaultCompID).
	SysID, CompID int
	// LinkTimeout is how long without a heartbeat before a drone is LOST
	// (default 3 s).
	LinkTimeout time.Duration
	// MissionRetries is how many times a mission transfer step is sent
	// again before the transfer fails (0..100; 0: the transport's default,
	// 5).
	MissionRetries int
	// StreamHz is the telemetry rate asked of every drone (0..50 Hz,
	// default 4).
	StreamHz float64
	// PositionHz is the GLOBAL_POSITION_INT rate asked (0: the larger of
	// StreamHz and 10 Hz).
	PositionHz float64
	// Sim starts this many simulated drones in-process (0..250), connected
	// over a loopback UDP socket of their own: the transport endpoint after
	// those of MAVLink (Server.MAVLinkAddr(len(MAVLink))).
	Sim int
	// SimSpeedup, SimSeed and SimBootDelay configure the simulated drones
	// (defaults 1, 1 and 6 s; a SimBootDelay of 0 means none).
	SimSpeedup   float64
	SimSeed      int64
	SimBootDelay time.Duration
	// SimHome is the home of every simulated drone (nil: spread over the
	// border corridors).
	SimHome *sim.Home
	// StatusInterval makes Server.Run print a fleet status table this often
	// (0: never).
	StatusInterval time.Duration
	// Agencies are added to BuiltinAgencies, replacing one of the same id.
	Agencies []geofence.Agency
	// DroneNames names drones: a named drone's id is its name. Names are 1
	// to 64 characters, unique, and do not begin with "sysid-".
	DroneNames DroneMap
	// DroneAgencies assigns drones to agencies (built in or in Agencies).
	DroneAgencies DroneMap
	// DefaultAgency is the agency of drones not in DroneAgencies (default
	// AgencyJoint).
	DefaultAgency string
	// Zones is a GeoJSON file of zones imported over the bundled dataset
	// ("": none). The import is all or nothing.
	Zones string
	// BreachAction is the default response to a geofence breach (default
	// fleet.ZoneRTL).
	BreachAction fleet.ZoneAction
	// Signing gives drones MAVLink 2 signing keys.
	Signing SigningConfig
	// Store configures the database.
	Store StoreConfig
	// GRPC configures the gRPC API.
	GRPC GRPCConfig
	// HTTP configures the operator map.
	HTTP HTTPConfig
	// Debug serves metrics and profiles.
	Debug DebugConfig
	// Lang is the language of what Run prints for people (the status
	// table; default English). Logs stay English.
	Lang i18n.Lang
}

// DroneMap maps drones to a value (a name, an agency) by one of three
// keys. A drone's link key wins over its uid, its uid over its system id
// (the fleet's NamesByKey, NamesByUID and Names; AgenciesByKey,
// AgenciesByUID and Agencies).
type DroneMap struct {
	// BySysID maps a MAVLink system id (1..255). It is enough while no two
	// vehicles share a system id.
	BySysID map[uint8]string
	// ByKey maps a link and a system id. Link is the link's name as the
	// fleet shows it (DroneState.Link): the endpoint for a client endpoint
	// ("tcp:127.0.0.1:5760"), "endpoint/remote" for the peers of a
	// listening one ("udp:0.0.0.0:14550/192.168.1.20:14550").
	ByKey map[fleet.VehicleKey]string
	// ByUID maps an AUTOPILOT_VERSION uid (not 0). With any, a new vehicle
	// is held up to 2 s for its uid before it becomes a drone.
	ByUID map[uint64]string
}

// Len is the number of entries of m.
func (m DroneMap) Len() int { return len(m.BySysID) + len(m.ByKey) + len(m.ByUID) }

// Values returns every value of m, sorted, without repeats.
func (m DroneMap) Values() []string {
	var out []string
	for _, v := range m.BySysID {
		out = append(out, v)
	}
	for _, v := range m.ByKey {
		out = append(out, v)
	}
	for _, v := range m.ByUID {
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SigningConfig gives drones MAVLink 2 signing keys; a drone with a key has
// its link signed.
type SigningConfig struct {
	// Keys are signing keys by system id (1..254).
	Keys map[uint8]fleet.SigningKey
	// File is a file of keys, one "SYSID=HEX" a line with # comments
	// (fleet.ReadSigningKeys), read at Validate and Start ("": none). A
	// system id may have one key among Keys and File.
	File string
}

// StoreConfig configures the database.
type StoreConfig struct {
	// DB is the database file ("": no durable state, everything in
	// memory).
	DB string
	// RetentionAge is how long history is kept (negative: forever; default
	// store.DefaultMaxAge; 0 is invalid).
	RetentionAge time.Duration
	// RetentionSize bounds the data in the file, bytes (0: unbounded; at
	// least 1 MiB otherwise; default 1 GiB).
	RetentionSize int64
}

// GRPCConfig configures the gRPC API.
type GRPCConfig struct {
	// Addr is the HOST:PORT to serve the API on ("" or "off": no API).
	// A port 0 takes a free port: Server.GRPCAddr says which.
	Addr string
	// TLSCert and TLSKey are PEM files of the server's certificate and key
	// (both or neither).
	TLSCert, TLSKey string
	// TLSSelfSigned makes a certificate in memory at start and logs its
	// SHA-256 fingerprint (Server.GRPCFingerprint; ctl --tls-fingerprint
	// pins it). It excludes TLSCert.
	TLSSelfSigned bool
	// AllowPlaintext serves without TLS on an address that is not loopback.
	AllowPlaintext bool
}

// HTTPConfig configures the operator map.
type HTTPConfig struct {
	// Addr is where the map listens ("" or "off": no map).
	Addr string
	// Tiles is an optional raster tile URL template with {z}, {x}, {y}.
	Tiles string
}

// DebugConfig is the operations side: Prometheus metrics and pprof, each
// off unless given an address.
type DebugConfig struct {
	// Metrics is the address of /metrics ("": off).
	Metrics string
	// Pprof is the address of /debug/pprof/ ("": off); it may equal
	// Metrics.
	Pprof string
}

// DefaultConfig returns the defaults of every field. It serves nothing
// until MAVLink or Sim is set, keeps no database, and serves no gRPC API,
// map or metrics.
func DefaultConfig() Config {
	return Config{
		SysID:         mavlink.DefaultSysID,
		CompID:        mavlink.DefaultCompID,
		LinkTimeout:   3 * time.Second,
		StreamHz:      4,
		SimSpeedup:    1,
		SimSeed:       1,
		SimBootDelay:  6 * time.Second,
		DefaultAgency: AgencyJoint,
		BreachAction:  fleet.ZoneRTL,
		Store:         StoreConfig{RetentionAge: store.DefaultMaxAge, RetentionSize: 1 << 30},
	}
}

// invalid is a configuration error about field: an Invalid *fleet.Error
// whose Reason is the field's name and whose Message begins with it.
func invalid(field, format string, args ...any) error {
	return &fleet.Error{Code: fleet.Invalid, Message: field + " " + fmt.Sprintf(format, args...), Reason: field}
}

// invalidErr is a configuration error about field caused by err.
func invalidErr(field string, err error) error {
	return &fleet.Error{Code: fleet.Invalid, Message: field + ": " + err.Error(), Reason: field}
}

// Validate reports the first thing wrong with c: an Invalid *fleet.Error
// whose Reason names the field (for example "SysID", "GRPC.TLSCert",
// "Store.RetentionAge"). It reads Signing.File; it does not read Zones,
// which Start imports.
func (c *Config) Validate() error {
	if len(c.MAVLink) == 0 && c.Sim == 0 {
		return invalid("MAVLink", "and Sim are empty: nothing to serve")
	}
	for _, e := range c.MAVLink {
		if _, err := mavlink.ParseEndpoint(e); err != nil {
			return invalidErr("MAVLink", err)
		}
	}
	if c.SysID < 1 || c.SysID > 255 {
		return invalid("SysID", "%d: want 1..255", c.SysID)
	}
	if c.CompID < 1 || c.CompID > 255 {
		return invalid("CompID", "%d: want 1..255", c.CompID)
	}
	if c.LinkTimeout <= 0 {
		return invalid("LinkTimeout", "%s: want a positive duration", c.LinkTimeout)
	}
	if c.MissionRetries < 0 || c.MissionRetries > 100 {
		return invalid("MissionRetries", "%d: want 0..100", c.MissionRetries)
	}
	if c.StreamHz < 0 || c.StreamHz > 50 || math.IsNaN(c.StreamHz) {
		return invalid("StreamHz", "%g: want 0..50", c.StreamHz)
	}
	if c.PositionHz < 0 || c.PositionHz > 50 || math.IsNaN(c.PositionHz) {
		return invalid("PositionHz", "%g: want 0..50", c.PositionHz)
	}
	if c.Sim < 0 || c.Sim > 250 {
		return invalid("Sim", "%d: want 0..250", c.Sim)
	}
	if c.SimSpeedup <= 0 || c.SimSpeedup > 1000 || math.IsNaN(c.SimSpeedup) {
		return invalid("SimSpeedup", "%g: want more than 0, at most 1000", c.SimSpeedup)
	}
	if c.SimBootDelay < 0 {
		return invalid("SimBootDelay", "%s: want 0 or more", c.SimBootDelay)
	}
	if h := c.SimHome; h != nil {
		if !finite(h.Lat, h.Lon, h.Alt) || h.Lat < -90 || h.Lat > 90 || h.Lon < -180 || h.Lon > 180 {
			return invalid("SimHome", "%g,%g,%g: latitude or longitude out of range", h.Lat, h.Lon, h.Alt)
		}
	}
	if c.StatusInterval < 0 {
		return invalid("StatusInterval", "%s: want 0 or more", c.StatusInterval)
	}
	if !c.BreachAction.Valid() {
		return invalid("BreachAction", "%q: want warn, hold, rtl or land", c.BreachAction)
	}
	agencies, err := c.agencies()
	if err != nil {
		return err
	}
	if err := c.validateDrones(agencies); err != nil {
		return err
	}
	if _, err := c.Signing.keys(); err != nil {
		return err
	}
	if err := c.GRPC.validate(); err != nil {
		return err
	}
	return c.Store.validate()
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// agencies returns the built-in agencies with c.Agencies applied.
func (c *Config) agencies() ([]geofence.Agency, error) {
	out := BuiltinAgencies()
	for _, a := range c.Agencies {
		if strings.TrimSpace(a.ID) == "" || a.ID != strings.TrimSpace(a.ID) {
			return nil, invalid("Agencies", "%q: want an id without surrounding spaces", a.ID)
		}
		if len(a.Jurisdictions) == 0 {
			return nil, invalid("Agencies", "%s: no jurisdiction (want US, MX or JOINT)", a.ID)
		}
		for _, j := range a.Jurisdictions {
			if !j.Valid() {
				return nil, invalid("Agencies", "%s: unknown jurisdiction %q (want US, MX or JOINT)", a.ID, j)
			}
		}
		if a.Name == "" {
			a.Name = a.ID
		}
		out = slices.DeleteFunc(out, func(b geofence.Agency) bool { return b.ID == a.ID })
		out = append(out, a)
	}
	return out, nil
}

// validateDrones checks DroneNames, DroneAgencies and DefaultAgency.
func (c *Config) validateDrones(known []geofence.Agency) error {
	isKnown := func(id string) bool {
		return slices.ContainsFunc(known, func(a geofence.Agency) bool { return a.ID == id })
	}
	if !isKnown(c.DefaultAgency) {
		return invalid("DefaultAgency", "%q: no such agency", c.DefaultAgency)
	}
	if err := c.DroneAgencies.validateKeys("DroneAgencies"); err != nil {
		return err
	}
	for _, e := range c.DroneAgencies.entries() {
		if !isKnown(e.value) {
			return invalid("DroneAgencies", "%q: no such agency %q", e.key+"="+e.value, e.value)
		}
	}
	if err := c.DroneNames.validateKeys("DroneNames"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range c.DroneNames.entries() {
		name := e.value
		if name == "" || len(name) > 64 || strings.TrimSpace(name) != name {
			return invalid("DroneNames", "%q: want a name of 1 to 64 characters without surrounding spaces", e.key+"="+name)
		}
		if seen[name] || strings.HasPrefix(name, "sysid-") {
			return invalid("DroneNames", "%q: name %q is taken", e.key+"="+name, name)
		}
		seen[name] = true
	}
	return nil
}

// droneEntry is an entry of a DroneMap, its key written as serve's flags
// write it: "SYSID", "LINK/SYSID" or "uid:HEX".
type droneEntry struct{ key, value string }

// entries returns m's entries: by system id, by link key, by uid, each
// sorted by key.
func (m DroneMap) entries() []droneEntry {
	var out []droneEntry
	for _, sys := range sortedKeys(m.BySysID) {
		out = append(out, droneEntry{fmt.Sprint(sys), m.BySysID[sys]})
	}
	var keyed []droneEntry
	for k, v := range m.ByKey {
		keyed = append(keyed, droneEntry{fmt.Sprintf("%s/%d", k.Link, k.SysID), v})
	}
	slices.SortFunc(keyed, func(a, b droneEntry) int { return strings.Compare(a.key, b.key) })
	out = append(out, keyed...)
	for _, uid := range sortedKeys(m.ByUID) {
		out = append(out, droneEntry{fmt.Sprintf("uid:%016x", uid), m.ByUID[uid]})
	}
	return out
}

// validateKeys checks m's keys: system ids 1..255, links named, uids not 0.
func (m DroneMap) validateKeys(field string) error {
	if _, ok := m.BySysID[0]; ok {
		return invalid(field, "system id 0: want 1..255")
	}
	for k := range m.ByKey {
		if k.Link == "" || k.SysID == 0 {
			return invalid(field, "link key %q/%d: want a link name and a system id 1..255", k.Link, k.SysID)
		}
	}
	if _, ok := m.ByUID[0]; ok {
		return invalid(field, "uid 0: want the non-zero AUTOPILOT_VERSION uid")
	}
	return nil
}

func sortedKeys[K uint8 | uint64, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// zoneStore builds the zone store: the bundled dataset, the agencies and
// the zones of c.Zones.
func (c *Config) zoneStore() (*geofence.Store, error) {
	agencies, err := c.agencies()
	if err != nil {
		return nil, err
	}
	set, err := geofence.Default(agencies...)
	if err != nil {
		return nil, err
	}
	zs := geofence.NewStore(set)
	if c.Zones != "" {
		data, err := os.ReadFile(c.Zones)
		if err != nil {
			return nil, invalidErr("Zones", err)
		}
		if err := zs.ImportGeoJSON(data, geofence.DefaultLimits(), false); err != nil {
			return nil, invalid("Zones", "%s: %v", c.Zones, err)
		}
	}
	return zs, nil
}

// keys merges Keys and File. Errors name the system id or the file line,
// never the key.
func (o SigningConfig) keys() (map[uint8]fleet.SigningKey, error) {
	out := map[uint8]fleet.SigningKey{}
	for sys, k := range o.Keys {
		if sys < 1 || sys > 254 {
			return nil, invalid("Signing.Keys", "system id %d: want 1..254", sys)
		}
		out[sys] = k
	}
	if o.File != "" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, invalidErr("Signing.File", err)
		}
		defer f.Close()
		ks, err := fleet.ReadSigningKeys(f, o.File)
		if err != nil {
			return nil, invalid("Signing.File", "%v", err)
		}
		for _, sys := range sortedKeys(ks) {
			if _, dup := out[sys]; dup {
				return nil, invalid("Signing.File", "%s: a second key for system id %d", o.File, sys)
			}
			out[sys] = ks[sys]
		}
	}
	return out, nil
}

// keyStore returns the server's key store, or nil when no key is given.
func (o SigningConfig) keyStore() (*fleet.MemKeyStore, error) {
	ks, err := o.keys()
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	s := &fleet.MemKeyStore{}
	for sys, k := range ks {
		s.SetSysID(sys, k)
	}
	return s, nil
}

// simKeys returns the keys in the simulator's form.
func (o SigningConfig) simKeys() (map[uint8][]byte, error) {
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

func (o GRPCConfig) enabled() bool { return o.Addr != "" && o.Addr != "off" }

func (o GRPCConfig) validate() error {
	if !o.enabled() {
		return nil
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return invalid("GRPC.Addr", "%q: want HOST:PORT", o.Addr)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return invalid("GRPC.TLSCert", "and GRPC.TLSKey go together")
	}
	if o.TLSCert != "" && o.TLSSelfSigned {
		return invalid("GRPC.TLSSelfSigned", "and GRPC.TLSCert exclude each other")
	}
	return nil
}

func (o StoreConfig) validate() error {
	if o.RetentionAge == 0 {
		return invalid("Store.RetentionAge", "0: want a positive duration, or negative to keep history forever")
	}
	if o.RetentionSize < 0 || (o.RetentionSize > 0 && o.RetentionSize < 1<<20) {
		return invalid("Store.RetentionSize", "%d: want at least 1MiB (or 0 for unbounded)", o.RetentionSize)
	}
	return nil
}

// storeOpts returns the store's options.
func (o StoreConfig) storeOpts() store.Options {
	size := o.RetentionSize
	if size == 0 {
		size = -1
	}
	return store.Options{MaxAge: o.RetentionAge, MaxSize: size}
}
