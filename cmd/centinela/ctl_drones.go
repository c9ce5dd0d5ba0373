package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// droneJSON is a drone as "ctl drones ls --json" prints it: codes and SI
// numbers, position fields absent before a fix.
type droneJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Agency       string   `json:"agency"`
	SysID        uint32   `json:"sys_id"`
	Link         string   `json:"link"`
	LinkEndpoint string   `json:"link_endpoint"`
	Mode         string   `json:"mode"`
	Armed        bool     `json:"armed"`
	Landed       string   `json:"landed"`
	Lat          *float64 `json:"lat,omitempty"`
	Lon          *float64 `json:"lon,omitempty"`
	AltM         *float64 `json:"alt_m,omitempty"`
	AltMSLM      *float64 `json:"alt_msl_m,omitempty"`
	SpeedMS      float64  `json:"ground_speed_m_s"`
	HeadingDeg   *float64 `json:"heading_deg,omitempty"`
	BatteryPct   *int32   `json:"battery_pct"` // null when unknown
	BatteryV     *float64 `json:"battery_v,omitempty"`
	GPSFix       uint32   `json:"gps_fix"`
	Satellites   *int32   `json:"satellites,omitempty"`
	Firmware     string   `json:"firmware,omitempty"`
	SystemStatus string   `json:"system_status"`
	CanCommand   bool     `json:"can_command"`
	// PrearmOK is null until the vehicle reported its pre-arm readiness.
	PrearmOK    *bool  `json:"prearm_ok"`
	LastRefusal string `json:"last_refusal,omitempty"`
	Mission     *struct {
		ID      string  `json:"id"`
		State   string  `json:"state"`
		Seq     int32   `json:"seq"`
		Items   uint32  `json:"items"`
		Percent float64 `json:"percent"`
		ETAS    *int64  `json:"eta_s,omitempty"`
	} `json:"mission,omitempty"`
	LastSeen string `json:"last_seen,omitempty"`
}

func linkName(s pb.LinkState) string {
	switch s {
	case pb.LinkState_LINK_STATE_UP:
		return "up"
	case pb.LinkState_LINK_STATE_LOST:
		return "lost"
	}
	return "unknown"
}

func enumName(s string, prefix string) string { return strings.ToLower(strings.TrimPrefix(s, prefix)) }

func missionStateName(s pb.MissionState) string { return enumName(s.String(), "MISSION_STATE_") }

func toDroneJSON(d *pb.Drone) droneJSON {
	out := droneJSON{ID: d.GetId(), Name: d.GetName(), Agency: d.GetAgency(), SysID: d.GetSysId(),
		Link: linkName(d.GetLinkState()), LinkEndpoint: d.GetLink(), Mode: d.GetMode(), Armed: d.GetArmed(),
		Landed: enumName(d.GetLandedState().String(), "LANDED_STATE_"), SpeedMS: d.GetGroundSpeedMS(),
		HeadingDeg: d.HeadingDeg, BatteryPct: d.GetBattery().RemainingPct, BatteryV: d.GetBattery().VoltageV,
		GPSFix: d.GetGps().GetFixType(), Satellites: d.GetGps().Satellites, Firmware: d.GetFirmware().GetVersion(),
		SystemStatus: d.GetSystemStatus(), CanCommand: d.GetCanCommand(), LastRefusal: d.GetLastRefusal()}
	if d.GetPrearmKnown() {
		ok := d.GetPrearmOk()
		out.PrearmOK = &ok
	}
	if p := d.GetPosition(); p != nil {
		lat, lon, alt := p.GetLatDeg(), p.GetLonDeg(), p.GetRelAltM()
		out.Lat, out.Lon, out.AltM, out.AltMSLM = &lat, &lon, &alt, p.AltMslM
	}
	if m := d.GetMission(); m != nil && m.GetState() != pb.MissionState_MISSION_STATE_NONE {
		out.Mission = &struct {
			ID      string  `json:"id"`
			State   string  `json:"state"`
			Seq     int32   `json:"seq"`
			Items   uint32  `json:"items"`
			Percent float64 `json:"percent"`
			ETAS    *int64  `json:"eta_s,omitempty"`
		}{ID: m.GetMissionId(), State: missionStateName(m.GetState()), Seq: m.GetCurrentSeq(), Items: m.GetItems(), Percent: m.GetPercent()}
		if m.GetEta() != nil {
			s := int64(m.GetEta().AsDuration().Seconds())
			out.Mission.ETAS = &s
		}
	}
	if d.GetLastSeen() != nil {
		out.LastSeen = d.GetLastSeen().AsTime().UTC().Format(time.RFC3339Nano)
	}
	return out
}

func ctlDroneCommands() []ctlCommand {
	var agency string
	var rate float64
	var drones, kinds string
	var count int
	return []ctlCommand{
		{path: "drones ls", help: "list the drones", nargs: 0,
			flags: func(fs *flag.FlagSet) { fs.StringVar(&agency, "agency", "", "only this agency's drones") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Fleet.ListDrones(ctx, &pb.ListDronesRequest{Agency: agency})
				if err != nil {
					return err
				}
				if c.JSON {
					out := make([]droneJSON, 0, len(r.GetDrones()))
					for _, d := range r.GetDrones() {
						out = append(out, toDroneJSON(d))
					}
					return c.printJSON(out)
				}
				printDroneTable(c.stdout, c, r.GetDrones())
				return nil
			}},
		{path: "drones show", args: "DRONE", help: "show everything about a drone", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: a[0]})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(toDroneJSON(r.GetDrone()))
				}
				printDrone(c.stdout, c, r.GetDrone())
				return nil
			}},
		{path: "watch", help: "a live table of the fleet and its events, refreshed in place (--json: one object per line)", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&agency, "agency", "", "only this agency's drones")
				fs.StringVar(&drones, "drones", "", "only these drones (comma-separated)")
				fs.StringVar(&kinds, "kinds", "", "only these event kinds (comma-separated)")
				fs.Float64Var(&rate, "rate", 2, "at most this many updates per drone per second")
				fs.IntVar(&count, "count", 0, "stop after this many updates and events (0: until interrupted)")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				return ctlWatch(ctx, c, cl, &pb.WatchFleetRequest{DroneIds: splitList(drones), Agency: agency, Kinds: splitList(kinds), MaxRateHz: rate}, count)
			}},
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// state translates a state code (link, mission, landed) for tables; JSON
// keeps the code.
func (c *ctlConfig) state(code string) string {
	if i18n.Has(i18n.En, "ctl.state."+code) {
		return c.t("ctl.state." + code)
	}
	return code
}

func yesNo(c *ctlConfig, b bool) string {
	if b {
		return c.t("ctl.yes")
	}
	return c.t("ctl.no")
}

func printDroneTable(w io.Writer, c *ctlConfig, drones []*pb.Drone) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	cols := []string{"drone", "agency", "link", "mode", "armed", "lat", "lon", "alt", "speed", "battery", "mission"}
	for i, k := range cols {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, c.t("ctl.col."+k))
	}
	fmt.Fprintln(tw)
	for _, d := range drones {
		lat, lon, alt := "-", "-", "-"
		if p := d.GetPosition(); p != nil {
			lat, lon, alt = fnum(p.GetLatDeg(), 5), fnum(p.GetLonDeg(), 5), fnum(p.GetRelAltM(), 1)
		}
		bat := "-"
		if d.GetBattery().RemainingPct != nil {
			bat = strconv.Itoa(int(d.GetBattery().GetRemainingPct()))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.GetId(), d.GetAgency(), c.state(linkName(d.GetLinkState())),
			d.GetMode(), yesNo(c, d.GetArmed()), lat, lon, alt, fnum(d.GetGroundSpeedMS(), 1), bat, missionCell(c, d.GetMission()))
	}
	tw.Flush()
}

func missionCell(c *ctlConfig, m *pb.MissionStatus) string {
	switch m.GetState() {
	case pb.MissionState_MISSION_STATE_NONE:
		return "-"
	case pb.MissionState_MISSION_STATE_RUNNING, pb.MissionState_MISSION_STATE_PAUSED:
		s := fmt.Sprintf("%s %d/%d %.0f%%", c.state(missionStateName(m.GetState())), m.GetCurrentSeq(), max(int(m.GetItems())-1, 0), m.GetPercent())
		if m.GetEta() != nil {
			s += " " + m.GetEta().AsDuration().Round(time.Second).String()
		}
		return s
	}
	return c.state(missionStateName(m.GetState()))
}

func printDrone(w io.Writer, c *ctlConfig, d *pb.Drone) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	none := c.t("ctl.show.none")
	row(c.t("ctl.col.drone"), d.GetId())
	row(c.t("ctl.col.name"), d.GetName())
	row(c.t("ctl.col.agency"), d.GetAgency())
	row(c.t("ctl.show.link"), c.t("ctl.show.link.value", "state", c.state(linkName(d.GetLinkState())), "link", d.GetLink(),
		"rate", fnum(d.GetLinkQuality().GetRateHz(), 1), "loss", fnum(d.GetLinkQuality().GetLossPct(), 1)))
	row(c.t("ctl.col.mode"), d.GetMode())
	row(c.t("ctl.col.armed"), yesNo(c, d.GetArmed()))
	row(c.t("ctl.show.system_status"), d.GetSystemStatus())
	row(c.t("ctl.show.landed"), c.state(enumName(d.GetLandedState().String(), "LANDED_STATE_")))
	pos := none
	if p := d.GetPosition(); p != nil {
		pos = fmt.Sprintf("%s, %s, %s m", fnum(p.GetLatDeg(), 6), fnum(p.GetLonDeg(), 6), fnum(p.GetRelAltM(), 1))
	}
	row(c.t("ctl.show.position"), pos)
	home := none
	if h := d.GetHome(); h != nil {
		home = fmt.Sprintf("%s, %s", fnum(h.GetLatDeg(), 6), fnum(h.GetLonDeg(), 6))
	}
	row(c.t("ctl.show.home"), home)
	bat := none
	if b := d.GetBattery(); b.RemainingPct != nil || b.VoltageV != nil {
		parts := []string{}
		if b.RemainingPct != nil {
			parts = append(parts, strconv.Itoa(int(b.GetRemainingPct()))+" %")
		}
		if b.VoltageV != nil {
			parts = append(parts, fnum(b.GetVoltageV(), 2)+" V")
		}
		bat = strings.Join(parts, ", ")
	}
	row(c.t("ctl.show.battery"), bat)
	sats := "-"
	if d.GetGps().Satellites != nil {
		sats = strconv.Itoa(int(d.GetGps().GetSatellites()))
	}
	row(c.t("ctl.show.gps"), c.t("ctl.show.gps.value", "fix", strconv.Itoa(int(d.GetGps().GetFixType())), "sats", sats))
	fw := none
	if f := d.GetFirmware(); f.GetKnown() {
		fw = f.GetVersion() + " [" + strings.Join(f.GetCapabilityNames(), " ") + "]"
	}
	row(c.t("ctl.show.firmware"), fw)
	prearm := c.t("ctl.show.prearm.unknown")
	if d.GetPrearmKnown() {
		prearm = c.t("ctl.show.prearm.failing")
		if d.GetPrearmOk() {
			prearm = c.t("ctl.show.prearm.ok")
		}
	}
	row(c.t("ctl.show.prearm"), prearm)
	if r := d.GetLastRefusal(); r != "" {
		row(c.t("ctl.show.last_refusal"), r)
	}
	row(c.t("ctl.show.mission"), missionCell(c, d.GetMission()))
	row(c.t("ctl.show.can_command"), yesNo(c, d.GetCanCommand()))
	tw.Flush()
}

// ctlWatch follows WatchFleet: with --json one object per line, else a
// table redrawn in place (ANSI) with the latest events under it.
func ctlWatch(ctx context.Context, c *ctlConfig, cl *proto.Client, req *pb.WatchFleetRequest, count int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := cl.Fleet.WatchFleet(ctx, req)
	if err != nil {
		return err
	}
	drones := map[string]*pb.Drone{}
	var events []string
	var coalesced uint64
	drawn, n := time.Time{}, 0
	redraw := func() {
		fmt.Fprint(c.stdout, "\x1b[H\x1b[2J")
		printDroneTable(c.stdout, c, sortedDrones(drones))
		fmt.Fprintf(c.stdout, "\n%s (%s)\n", c.t("ctl.watch.events"), c.t("ctl.watch.missed", "n", strconv.FormatUint(coalesced, 10)))
		for _, e := range events {
			fmt.Fprintln(c.stdout, e)
		}
	}
	for {
		m, err := st.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			if code := proto.Code(err); code == "Canceled" {
				return nil
			}
			return err
		}
		coalesced += m.GetCoalesced()
		n++
		last := count > 0 && n >= count
		if c.JSON {
			if err := c.compactJSON(watchJSON(m)); err != nil || last {
				return err
			}
			continue
		}
		switch it := m.GetItem().(type) {
		case *pb.WatchFleetResponse_Drone:
			drones[it.Drone.GetId()] = it.Drone
		case *pb.WatchFleetResponse_Event:
			e := it.Event
			line := fmt.Sprintf("%s %s %s", e.GetAt().AsTime().UTC().Format("15:04:05"), e.GetDroneId(), i18n.Event(c.lang, e.GetKind(), e.GetParams()))
			events = append(events, line)
			if len(events) > 10 {
				events = events[len(events)-10:]
			}
		}
		if time.Since(drawn) > 500*time.Millisecond || last {
			redraw()
			drawn = time.Now()
		}
		if last {
			return nil
		}
	}
}

func sortedDrones(m map[string]*pb.Drone) []*pb.Drone {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*pb.Drone, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}

// watchJSON is one line of "ctl watch --json".
func watchJSON(m *pb.WatchFleetResponse) any {
	switch it := m.GetItem().(type) {
	case *pb.WatchFleetResponse_Drone:
		return map[string]any{"drone": toDroneJSON(it.Drone), "coalesced": m.GetCoalesced()}
	case *pb.WatchFleetResponse_Event:
		return map[string]any{"event": eventJSON(it.Event), "coalesced": m.GetCoalesced()}
	}
	return map[string]any{}
}

func eventJSON(e *pb.Event) map[string]any {
	out := map[string]any{"kind": e.GetKind(), "severity": int32(e.GetSeverity()), "drone_id": e.GetDroneId(),
		"agency": e.GetAgency(), "params": e.GetParams()}
	if e.GetAt() != nil {
		out["at"] = e.GetAt().AsTime().UTC().Format(time.RFC3339Nano)
	}
	return out
}
