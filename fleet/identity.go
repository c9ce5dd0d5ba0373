package fleet

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// Drone identity
//
// A drone is bound to the transport key (link and system id) it was
// discovered on. A heartbeat with the same drone id from another key is a
// claim: the claimant is held, its other updates ignored, until one of these
// decides it:
//
//   - the drone's own link is lost (no heartbeat for LinkTimeout, or the
//     transport closed it): a reconnect, the drone follows the new key;
//   - the claimant proves it is the same vehicle, by a heartbeat signed with
//     the drone's MAVLink 2 key (Heartbeat.Signed on both) or by the
//     AUTOPILOT_VERSION uid the drone reported: the drone follows the new key
//     once its own link has been silent for staleAfter (a radio change), and
//     an IdentityClaimed event with ClaimMoved says so. A signed claimant
//     of a live drone is held (the same vehicle on two links); a uid is no
//     secret and simulators share one, so an unsigned claimant with the
//     drone's uid heard alongside it is judged as below;
//   - its uid differs from the drone's, or both it and the drone are heard
//     for a hold of LinkTimeout (the drone heard after the claimant
//     appeared, which a reconnect never is): it is a different vehicle
//     (another drone reusing the system id, or an impostor). It becomes a
//     drone of its own, and IdentityClaimed with ClaimSeparate reports it;
//     unless another drone with its system id is lost: then it is that
//     drone reconnecting, and takes its place without a claim.
//
// Ids are stable strings, never counters: the base id of a key is the
// DroneID option's answer, else a name from NamesByKey, NamesByUID (when
// the uid is known at admission) or Names, else "sysid-N". A second drone
// whose base id is taken gets the base id plus "-u" and its uid in 16 hex
// digits when the uid is known, else plus "-l" and 8 hex digits of the
// FNV-1a hash of its link name ("sysid-1-l9c2f61a0"); "-2", "-3", … are
// appended on the rare collision.

// Defaults of the identity rules.
const (
	// DefaultMaxClaimants bounds the keys held while their identity is
	// decided.
	DefaultMaxClaimants = 64
	// DefaultMaxDrones bounds the drones the fleet tracks.
	DefaultMaxDrones = 4096
	// identifyWait bounds how long a new key is held for its uid when
	// NamesByUID or AgenciesByUID is set.
	identifyWait = 2 * time.Second
	// staleAfter is how long a drone's link must be silent before a proven
	// claimant takes it over.
	staleAfter = 1500 * time.Millisecond
)

// ClaimResolution says how a claim on a drone's identity ended.
type ClaimResolution string

// Claim resolutions.
const (
	// ClaimSeparate means the claimant is another vehicle: it is the drone
	// NewDroneID, and the claimed drone keeps its link.
	ClaimSeparate ClaimResolution = "separate"
	// ClaimMoved means the claimant proved to be the same vehicle (ProvenBy)
	// and the drone follows the claiming link.
	ClaimMoved ClaimResolution = "moved"
)

// IdentityClaimed is sent when a link claims the identity (system and
// component id) of a drone that is active on another link. An impostor, a
// second ground station's relay or two vehicles configured with one system
// id all raise it; the map alerts on it.
type IdentityClaimed struct {
	// DroneID is the drone whose identity was claimed.
	DroneID string
	At      time.Time
	// Link is the drone's link when the claim was decided; ClaimedBy is the
	// claiming link.
	Link, ClaimedBy string
	// SysID and CompID are the ids claimed.
	SysID, CompID uint8
	// Resolution says what the fleet decided.
	Resolution ClaimResolution
	// NewDroneID is the claimant's own drone id (ClaimSeparate).
	NewDroneID string
	// ProvenBy is "signing" or "uid" (ClaimMoved).
	ProvenBy string
	// UID is the claimant's AUTOPILOT_VERSION uid (0 when unknown).
	UID uint64
}

func (IdentityClaimed) isEvent()        {}
func (e IdentityClaimed) drone() string { return e.DroneID }

// LinkClosed is sent by a transport when a vehicle's link ended (a TCP
// connection closed, a UDP peer timed out): the drone is lost at once, so
// that a reconnect on a new link is taken without waiting for LinkTimeout.
type LinkClosed struct{}

func (LinkClosed) isUpdate() {}

// claimant is a key heard with a heartbeat whose drone is not decided yet.
// Guarded by Fleet.mu.
type claimant struct {
	key    VehicleKey
	v      Vehicle
	compID uint8
	baseID string
	target *drone // the drone whose id it claims; nil when held for its uid
	first  time.Time
	last   time.Time
	signed bool
	uid    uint64
	uidSet bool
	asked  bool
}

// baseID is the id a key asks for.
func (f *Fleet) baseID(k VehicleKey, uid uint64, uidSet bool) string {
	if f.DroneID != nil {
		if id := f.DroneID(k); id != "" {
			return id
		}
	}
	if n := f.NamesByKey[k]; n != "" {
		return n
	}
	if uidSet && uid != 0 {
		if n := f.NamesByUID[uid]; n != "" {
			return n
		}
	}
	if n, ok := f.Names[k.SysID]; ok && n != "" {
		return n
	}
	return fmt.Sprintf("sysid-%d", k.SysID)
}

// derivedID is the id of a second drone whose base id is taken. Called
// with f.mu held.
func (f *Fleet) derivedID(base string, c *claimant) string {
	var id string
	if c.uidSet && c.uid != 0 {
		id = fmt.Sprintf("%s-u%016x", base, c.uid)
	} else {
		h := fnv.New32a()
		h.Write([]byte(c.key.Link))
		id = fmt.Sprintf("%s-l%08x", base, h.Sum32())
	}
	if f.byID[id] == nil {
		return id
	}
	for i := 2; ; i++ {
		if alt := fmt.Sprintf("%s-%d", id, i); f.byID[alt] == nil {
			return alt
		}
	}
}

// lostSibling returns a lost drone other than the claimed one with the
// claimant's system and component id (and uid, when both are known): a
// second drone of that system id reconnecting. Called with f.mu held.
func (f *Fleet) lostSibling(c *claimant) *drone {
	for _, d := range f.list {
		if d == c.target {
			continue
		}
		d.mu.Lock()
		ok := d.key.SysID == c.key.SysID && d.st.LinkState == LinkStateLost &&
			(d.compID == 0 || d.compID == c.compID) &&
			(!c.uidSet || c.uid == 0 || d.uid == 0 || d.uid == c.uid)
		d.mu.Unlock()
		if ok {
			return d
		}
	}
	return nil
}

// agencyOf is the configured agency of a key.
func (f *Fleet) agencyOf(k VehicleKey, uid uint64) string {
	if a := f.AgenciesByKey[k]; a != "" {
		return a
	}
	if uid != 0 {
		if a := f.AgenciesByUID[uid]; a != "" {
			return a
		}
	}
	return f.agency(k.SysID)
}

func (f *Fleet) identifyFirst() bool { return len(f.NamesByUID) > 0 || len(f.AgenciesByUID) > 0 }

// claimAction is what decide chose for a claimant.
type claimAction int

const (
	claimHold claimAction = iota
	claimAdmit
	claimSeparate
	claimMove
)

// admitted is the result of admit: the drone the update goes to (nil when
// the key is held), and what happened.
type admitted struct {
	d        *drone
	created  bool
	switched bool
	oldKey   VehicleKey
	claim    *IdentityClaimed
	ask      *claimant // a claimant to ask for its AUTOPILOT_VERSION
}

// admit decides the drone of a key not bound to one, heard with a
// heartbeat (hb) or another update (an AUTOPILOT_VERSION, a LinkClosed).
func (f *Fleet) admit(v Vehicle, key VehicleKey, u Update, now time.Time) admitted {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.byKey[key]; d != nil {
		return admitted{d: d}
	}
	c := f.claims[key]
	switch u := u.(type) {
	case Heartbeat:
		if c == nil {
			base := f.baseID(key, 0, false)
			t := f.byID[base]
			if t == nil && !f.identifyFirst() {
				return f.create(v, key, base, 0)
			}
			if t != nil && t.reconnectable(u.ComponentID) {
				return f.move(t, v, key)
			}
			if len(f.claims) >= f.MaxClaimants {
				f.stats.claimantsRefused.Add(1)
				f.limitLog.Warn("identity claims over the limit: key ignored", "link", key.Link, "sys_id", key.SysID, "limit", f.MaxClaimants)
				return admitted{}
			}
			c = &claimant{key: key, v: v, compID: u.ComponentID, baseID: base, target: t, first: f.mono()}
			f.claims[key] = c
		}
		c.last, c.signed, c.v = f.mono(), u.Signed, v
	case AutopilotVersion:
		if c == nil {
			return admitted{}
		}
		c.uid, c.uidSet = u.UID, true
	case LinkClosed:
		delete(f.claims, key)
		return admitted{}
	default:
		if c != nil {
			f.stats.claimantUpdates.Add(1)
		}
		return admitted{}
	}
	return f.resolve(c, now)
}

// resolve applies decide's choice. Called with f.mu held.
func (f *Fleet) resolve(c *claimant, now time.Time) admitted {
	act, proof := f.decide(c, f.mono())
	switch act {
	case claimAdmit:
		delete(f.claims, c.key)
		base := f.baseID(c.key, c.uid, c.uidSet)
		if t := f.byID[base]; t != nil {
			// Another key took the id meanwhile: a claim on it.
			c.baseID, c.target = base, t
			f.claims[c.key] = c
			return f.resolve(c, now)
		}
		return f.create(c.v, c.key, base, c.uid)
	case claimSeparate:
		delete(f.claims, c.key)
		if d := f.lostSibling(c); d != nil {
			// Another drone with this system id, lost: its reconnect.
			return f.move(d, c.v, c.key)
		}
		id := f.derivedID(c.baseID, c)
		a := f.create(c.v, c.key, id, c.uid)
		if a.d == nil {
			return a
		}
		a.claim = &IdentityClaimed{
			DroneID: c.target.id, At: now, Link: c.target.currentKey().Link, ClaimedBy: c.key.Link,
			SysID: c.key.SysID, CompID: c.compID, Resolution: ClaimSeparate, NewDroneID: id, UID: c.uid,
		}
		return a
	case claimMove:
		delete(f.claims, c.key)
		old := c.target.currentKey()
		a := f.move(c.target, c.v, c.key)
		if proof == "" {
			return a // a reconnect after the old link fell silent: no claim
		}
		a.claim = &IdentityClaimed{
			DroneID: c.target.id, At: now, Link: old.Link, ClaimedBy: c.key.Link,
			SysID: c.key.SysID, CompID: c.compID, Resolution: ClaimMoved, ProvenBy: proof, UID: c.uid,
		}
		return a
	}
	a := admitted{}
	if !c.asked && c.v != nil {
		if c.target == nil || c.target.knownUID() != 0 {
			c.asked = true
			a.ask = c
		}
	}
	return a
}

// decide chooses what to do with a claimant at mono (Fleet.Monotonic).
// Called with f.mu held.
func (f *Fleet) decide(c *claimant, mono time.Time) (claimAction, string) {
	t := c.target
	if t == nil {
		if c.uidSet || mono.Sub(c.first) >= min(identifyWait, f.LinkTimeout) {
			return claimAdmit, ""
		}
		return claimHold, ""
	}
	st := t.identity()
	silent := mono.Sub(st.lastHeartbeat) > f.LinkTimeout // lost, or about to be
	if (st.lost || silent) && (st.compID == 0 || st.compID == c.compID) {
		return claimMove, ""
	}
	stale := mono.Sub(st.lastHeartbeat) >= staleAfter
	switch {
	case c.signed && st.signed:
		// Only the vehicle (or a holder of its key) signs: a radio change,
		// or the same vehicle on two links (it keeps the one it has).
		if stale {
			return claimMove, "signing"
		}
		return claimHold, ""
	case c.uidSet && st.uid != 0 && c.uid != st.uid:
		return claimSeparate, ""
	case c.uidSet && c.uid != 0 && c.uid == st.uid && stale:
		// The uid is no secret and simulators share theirs: it proves a
		// radio change only when the old link fell silent; both heard for
		// a whole hold are two vehicles (below).
		return claimMove, "uid"
	}
	if c.compID != st.compID && st.compID != 0 {
		return claimSeparate, ""
	}
	// Two vehicles: the drone was heard after the claimant appeared, for a
	// whole hold. A reconnect never is: the old link fell silent first.
	if st.lastHeartbeat.After(c.first) && mono.Sub(c.first) >= f.LinkTimeout {
		return claimSeparate, ""
	}
	return claimHold, ""
}

// create makes a new drone for key. Called with f.mu held.
func (f *Fleet) create(v Vehicle, key VehicleKey, id string, uid uint64) admitted {
	if len(f.list) >= f.MaxDrones {
		f.stats.dronesRefused.Add(1)
		f.limitLog.Warn("drones over the limit: new drone refused", "link", key.Link, "sys_id", key.SysID, "limit", f.MaxDrones)
		return admitted{}
	}
	d := newDrone(f, id, key, v)
	d.st.Agency = f.agencyOf(key, uid)
	d.uid = uid
	f.byID[id] = d
	f.list = append(f.list, d)
	f.byKey[key] = d
	return admitted{d: d, created: true}
}

// move binds drone d to a new key. Called with f.mu held.
func (f *Fleet) move(d *drone, v Vehicle, key VehicleKey) admitted {
	d.mu.Lock()
	old := d.key
	d.key = key
	d.vehicle = v
	d.st.Link = key.Link
	d.needInit = true
	d.initAfter = time.Time{}
	// lastBoot is kept: a vehicle that rebooted while away is noticed by its
	// boot time going back.
	d.mu.Unlock()
	if f.byKey[old] == d {
		delete(f.byKey, old)
	}
	f.byKey[key] = d
	delete(f.claims, key)
	return admitted{d: d, switched: true, oldKey: old}
}

// tickClaims forgets claimants no longer heard (mono is Fleet.Monotonic).
// Claims are decided on the claimant's heartbeats.
func (f *Fleet) tickClaims(mono time.Time) {
	f.mu.RLock()
	n := len(f.claims)
	f.mu.RUnlock()
	if n == 0 {
		return
	}
	f.mu.Lock()
	for k, c := range f.claims {
		if mono.Sub(c.last) > 2*f.LinkTimeout {
			delete(f.claims, k)
		}
	}
	f.mu.Unlock()
}

// afterAdmit logs and publishes what admit decided; called without locks.
func (f *Fleet) afterAdmit(a admitted) {
	if a.ask != nil {
		select {
		case f.jobs <- job{kind: jobIdentify, c: a.ask}:
		default:
			f.mu.Lock()
			a.ask.asked = false
			f.mu.Unlock()
		}
	}
	if a.d == nil {
		return
	}
	if a.created {
		a.d.mu.Lock()
		a.d.st.Discovered = f.now()
		a.d.mu.Unlock()
	}
	if a.claim != nil {
		f.stats.claims.Add(1)
		f.droneLog.Warn(f.log, a.claim.ClaimedBy+"/"+strconv.Itoa(int(a.claim.SysID)), "drone identity claimed", "drone_id", a.claim.DroneID, "link", a.claim.Link,
			"claimed_by", a.claim.ClaimedBy, "sys_id", a.claim.SysID, "resolution", string(a.claim.Resolution),
			"new_drone_id", a.claim.NewDroneID, "proven_by", a.claim.ProvenBy)
		f.Publish(*a.claim)
	}
}

// identify asks a claimant for its AUTOPILOT_VERSION (its uid).
func (f *Fleet) identify(c *claimant) {
	ctx, cancel := context.WithTimeout(f.ctx, min(f.CommandTimeout, f.LinkTimeout))
	defer cancel()
	f.mu.RLock()
	v := c.v
	f.mu.RUnlock()
	if err := v.Command(ctx, Command{Kind: CommandRequestMessage, MessageID: 148}); err != nil {
		f.log.Debug("claimant version request failed", "link", c.key.Link, "sys_id", c.key.SysID, "err", err)
	}
}

// reconnectable reports whether d's link is lost, so that a heartbeat from
// a new key with compID is a reconnect. Called with f.mu held.
func (d *drone) reconnectable(compID uint8) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.LinkState == LinkStateLost && (d.compID == 0 || d.compID == compID)
}

// droneIdentity is what decide reads of a claimed drone.
type droneIdentity struct {
	lost          bool
	signed        bool
	compID        uint8
	uid           uint64
	lastHeartbeat time.Time // Fleet.Monotonic
}

func (d *drone) identity() droneIdentity {
	d.mu.Lock()
	defer d.mu.Unlock()
	return droneIdentity{
		lost: d.st.LinkState == LinkStateLost, signed: d.st.Signed, compID: d.compID,
		uid: d.uid, lastHeartbeat: d.hbMono,
	}
}

func (d *drone) knownUID() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.uid
}

func (d *drone) currentKey() VehicleKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.key
}
