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
	// MaxDrones bounds the drones the fleet tracks and the vehicles the
	// transport links (1..100000; 0: fleet.DefaultMaxDrones, 4096); more are
	// refused, counted and logged. Each MAVLink endpoint still takes at
	// most MaxPeers peers.
	MaxDrones int
	// MaxPeers bounds the peers of each listening MAVLink endpoint: the
	// remote addresses of a udp endpoint, the connections of a tcpin one
	// (0..100000; 0: mavlink.DefaultMaxPeers, 512). A fleet sending to one
	// port needs it at least its size.
	MaxPeers int
	// MissionRetries is how many times a mission transfer step is sent
	// again before the transfer fails (0..100; 0: the transport's default,
	// 5).
	MissionRetries int
	// ParamRetries is how many times a parameter request is sent again
	// before it fails (0..100; 0: the transport's default, 3). No serve
	// flag sets it: raise it for very lossy links when using the package.
	ParamRetries int
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

// ConfigError is a configuration error of Validate: Err is the Invalid
// *fleet.Error (Reason the field, Message its English text), and Code and
// Params say it for any language: the catalogue message "config."+Code of
// fleet/i18n, with Params and "field" filled. Error() is Err's text.
type ConfigError struct {
	// Field is the Config field ("SysID", "GRPC.TLSCert").
	Field string
	// Code names the message ("range", "together", …).
	Code string
	// Params fill the message; values that name another field ("other")
	// are field names.
	Params map[string]string
	// Err is the error in English.
	Err *fleet.Error
	// Cause is the error behind Params["err"] (a file's *fs.PathError),
	// nil when there is none.
	Cause error
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns Err, so errors.As finds the *fleet.Error and
// fleet.ErrorCode is Invalid.
func (e *ConfigError) Unwrap() error { return e.Err }

// configCodes lists every Code of a ConfigError.
var configCodes = []string{"nothing_to_serve", "endpoint", "range", "positive_duration", "positive_max",
	"non_negative", "lat_lon", "breach_action", "agency_id", "agency_no_jurisdiction", "agency_jurisdiction",
	"no_agency", "drone_no_agency", "key_sysid0", "key_link", "key_uid0", "drone_name", "name_taken", "file",
	"zones_import", "signing_sysid", "signing_file", "signing_dup", "host_port", "together", "exclusive",
	"retention_age", "retention_size", "listen", "stored_name_taken"}

// invalid is a configuration error about field: a *ConfigError of code
// with params as alternating names and values.
func invalid(field, code string, kv ...string) error {
	p := make(map[string]string, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	en := make(map[string]string, len(p)+1)
	for k, v := range p {
		en[k] = v
	}
	en["field"] = field
	msg := i18n.Msg(i18n.En, "config."+code, en)
	return &ConfigError{Field: field, Code: code, Params: p, Err: &fleet.Error{Code: fleet.Invalid, Message: msg, Reason: field}}
}

// invalidErr is a configuration error about field caused by err.
func invalidErr(field, code string, err error) error {
	ce := invalid(field, code, "err", err.Error()).(*ConfigError)
	ce.Cause = err
	return ce
}

func q(s string) string { return fmt.Sprintf("%q", s) }

// Validate reports the first thing wrong with c: a *ConfigError whose
// Err is an Invalid *fleet.Error (errors.As finds it) whose Reason names
// the field (for example "SysID", "GRPC.TLSCert", "Store.RetentionAge"),
// and whose Code and Params give its text in any language of fleet/i18n. It reads Signing.File; it does not read Zones,
// which Start imports.
func (c *Config) Validate() error {
	if len(c.MAVLink) == 0 && c.Sim == 0 {
		return invalid("MAVLink", "nothing_to_serve", "other", "Sim")
	}
	for _, e := range c.MAVLink {
		if _, err := mavlink.ParseEndpoint(e); err != nil {
			return invalidErr("MAVLink", "endpoint", err)
		}
	}
	if c.SysID < 1 || c.SysID > 255 {
		return invalid("SysID", "range", "value", fmt.Sprint(c.SysID), "want", "1..255")
	}
	if c.CompID < 1 || c.CompID > 255 {
		return invalid("CompID", "range", "value", fmt.Sprint(c.CompID), "want", "1..255")
	}
	if c.LinkTimeout <= 0 {
		return invalid("LinkTimeout", "positive_duration", "value", c.LinkTimeout.String())
	}
	if c.ParamRetries < 0 || c.ParamRetries > 100 {
		return invalid("ParamRetries", "range", "value", fmt.Sprint(c.ParamRetries), "want", "0..100")
	}
	if c.MaxDrones < 0 || c.MaxDrones > 100000 {
		return invalid("MaxDrones", "range", "value", fmt.Sprint(c.MaxDrones), "want", "0..100000")
	}
	if c.MaxPeers < 0 || c.MaxPeers > 100000 {
		return invalid("MaxPeers", "range", "value", fmt.Sprint(c.MaxPeers), "want", "0..100000")
	}
	if c.MissionRetries < 0 || c.MissionRetries > 100 {
		return invalid("MissionRetries", "range", "value", fmt.Sprint(c.MissionRetries), "want", "0..100")
	}
	if c.StreamHz < 0 || c.StreamHz > 50 || math.IsNaN(c.StreamHz) {
		return invalid("StreamHz", "range", "value", fmt.Sprintf("%g", c.StreamHz), "want", "0..50")
	}
	if c.PositionHz < 0 || c.PositionHz > 50 || math.IsNaN(c.PositionHz) {
		return invalid("PositionHz", "range", "value", fmt.Sprintf("%g", c.PositionHz), "want", "0..50")
	}
	if c.Sim < 0 || c.Sim > 250 {
		return invalid("Sim", "range", "value", fmt.Sprint(c.Sim), "want", "0..250")
	}
	if c.SimSpeedup <= 0 || c.SimSpeedup > 1000 || math.IsNaN(c.SimSpeedup) {
		return invalid("SimSpeedup", "positive_max", "value", fmt.Sprintf("%g", c.SimSpeedup), "max", "1000")
	}
	if c.SimBootDelay < 0 {
		return invalid("SimBootDelay", "non_negative", "value", c.SimBootDelay.String())
	}
	if h := c.SimHome; h != nil {
		if !finite(h.Lat, h.Lon, h.Alt) || h.Lat < -90 || h.Lat > 90 || h.Lon < -180 || h.Lon > 180 {
			return invalid("SimHome", "lat_lon", "value", fmt.Sprintf("%g,%g,%g", h.Lat, h.Lon, h.Alt))
		}
	}
	if c.StatusInterval < 0 {
		return invalid("StatusInterval", "non_negative", "value", c.StatusInterval.String())
	}
	if !c.BreachAction.Valid() {
		return invalid("BreachAction", "breach_action", "value", q(string(c.BreachAction)))
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
			return nil, invalid("Agencies", "agency_id", "value", q(a.ID))
		}
		if len(a.Jurisdictions) == 0 {
			return nil, invalid("Agencies", "agency_no_jurisdiction", "agency", a.ID)
		}
		for _, j := range a.Jurisdictions {
			if !j.Valid() {
				return nil, invalid("Agencies", "agency_jurisdiction", "agency", a.ID, "value", q(string(j)))
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
		return invalid("DefaultAgency", "no_agency", "value", q(c.DefaultAgency))
	}
	if err := c.DroneAgencies.validateKeys("DroneAgencies"); err != nil {
		return err
	}
	for _, e := range c.DroneAgencies.entries() {
		if !isKnown(e.value) {
			return invalid("DroneAgencies", "drone_no_agency", "value", q(e.key+"="+e.value), "agency", q(e.value))
		}
	}
	if err := c.DroneNames.validateKeys("DroneNames"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range c.DroneNames.entries() {
		name := e.value
		if name == "" || len(name) > 64 || strings.TrimSpace(name) != name {
			return invalid("DroneNames", "drone_name", "value", q(e.key+"="+name))
		}
		if seen[name] || strings.HasPrefix(name, "sysid-") {
			return invalid("DroneNames", "name_taken", "value", q(e.key+"="+name), "name", q(name))
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
		return invalid(field, "key_sysid0")
	}
	for k := range m.ByKey {
		if k.Link == "" || k.SysID == 0 {
			return invalid(field, "key_link", "link", q(k.Link), "sysid", fmt.Sprint(k.SysID))
		}
	}
	if _, ok := m.ByUID[0]; ok {
		return invalid(field, "key_uid0")
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
			return nil, invalidErr("Zones", "file", err)
		}
		if err := zs.ImportGeoJSON(data, geofence.DefaultLimits(), false); err != nil {
			return nil, invalid("Zones", "zones_import", "file", c.Zones, "err", err.Error())
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
			return nil, invalid("Signing.Keys", "signing_sysid", "sysid", fmt.Sprint(sys))
		}
		out[sys] = k
	}
	if o.File != "" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, invalidErr("Signing.File", "file", err)
		}
		defer f.Close()
		ks, err := fleet.ReadSigningKeys(f, o.File)
		if err != nil {
			return nil, invalid("Signing.File", "signing_file", "err", err.Error())
		}
		for _, sys := range sortedKeys(ks) {
			if _, dup := out[sys]; dup {
				return nil, invalid("Signing.File", "signing_dup", "file", o.File, "sysid", fmt.Sprint(sys))
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
		return invalid("GRPC.Addr", "host_port", "value", q(o.Addr))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return invalid("GRPC.TLSCert", "together", "other", "GRPC.TLSKey")
	}
	if o.TLSCert != "" && o.TLSSelfSigned {
		return invalid("GRPC.TLSSelfSigned", "exclusive", "other", "GRPC.TLSCert")
	}
	return nil
}

func (o StoreConfig) validate() error {
	if o.RetentionAge == 0 {
		return invalid("Store.RetentionAge", "retention_age", "value", "0")
	}
	if o.RetentionSize < 0 || (o.RetentionSize > 0 && o.RetentionSize < 1<<20) {
		return invalid("Store.RetentionSize", "retention_size", "value", fmt.Sprint(o.RetentionSize))
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
