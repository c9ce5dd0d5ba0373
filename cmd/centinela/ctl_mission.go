package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// missionItemJSON is one item of a JSON mission file, as "ctl mission
// upload" reads and "ctl mission download" writes it: MAV_CMD numbering,
// degrees and metres.
type missionItemJSON struct {
	Seq          uint32  `json:"seq"`
	Frame        uint32  `json:"frame"`
	Command      uint32  `json:"command"`
	Current      bool    `json:"current,omitempty"`
	Autocontinue bool    `json:"autocontinue"`
	Param1       float64 `json:"param1"`
	Param2       float64 `json:"param2"`
	Param3       float64 `json:"param3"`
	Param4       float64 `json:"param4"`
	Lat          float64 `json:"lat"`
	Lon          float64 `json:"lon"`
	Alt          float64 `json:"alt"`
}

// missionFileJSON is a JSON mission file: {"items": [...]}.
type missionFileJSON struct {
	Items []missionItemJSON `json:"items"`
}

// maxMissionFileBytes bounds a mission file read by ctl.
const maxMissionFileBytes = 16 << 20

// planLoaders reads mission files by extension other than JSON. The
// QGroundControl .plan reader (package qgcplan, another change) registers
// ".plan" here; until then a .plan file is refused with a clear message.
var planLoaders = map[string]func(data []byte) ([]*pb.MissionItem, error){}

// loadMission reads a mission file: JSON ({"items": [...]} or a bare
// array), or a format of planLoaders.
func loadMission(c *ctlConfig, path string) ([]*pb.MissionItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMissionFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxMissionFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxMissionFileBytes>>20)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if load, ok := planLoaders[ext]; ok {
		return load(data)
	}
	if ext == ".plan" {
		return nil, errors.New(c.t("ctl.plan.unsupported", "file", path))
	}
	var file missionFileJSON
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(data, &file.Items)
	} else {
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.DisallowUnknownFields()
		err = dec.Decode(&file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a JSON mission: %w", path, err)
	}
	out := make([]*pb.MissionItem, len(file.Items))
	for i, it := range file.Items {
		out[i] = &pb.MissionItem{Seq: it.Seq, Frame: it.Frame, Command: it.Command, Current: it.Current,
			Autocontinue: it.Autocontinue, Param1: it.Param1, Param2: it.Param2, Param3: it.Param3, Param4: it.Param4,
			LatDeg: it.Lat, LonDeg: it.Lon, AltM: it.Alt}
	}
	return out, nil
}

func ctlMissionCommands() []ctlCommand {
	var override, follow bool
	unary := func(path, help string, call func(ctx context.Context, cl *proto.Client, id string) error) ctlCommand {
		cmd := simple("mission "+path, help, call)
		return cmd
	}
	return []ctlCommand{
		{path: "mission upload", args: "DRONE FILE", help: "upload a mission (JSON or QGroundControl .plan), showing progress", nargs: 2,
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&override, "override", false, "skip the geofence check (audited)") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				items, err := loadMission(c, a[1])
				if err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				st, err := cl.Mission.Upload(ctx, &pb.UploadMissionRequest{DroneId: a[0], Items: items, Override: override, Progress: true})
				if err != nil {
					return err
				}
				for {
					m, err := st.Recv()
					if err != nil {
						return err
					}
					switch it := m.GetItem().(type) {
					case *pb.UploadMissionResponse_Progress:
						fmt.Fprintln(c.stderr, c.t("ctl.upload.progress", "drone", a[0], "sent", strconv.Itoa(int(it.Progress.GetSent())), "total", strconv.Itoa(int(it.Progress.GetTotal()))))
					case *pb.UploadMissionResponse_MissionId:
						if c.JSON {
							return c.printJSON(map[string]any{"drone_id": a[0], "mission_id": it.MissionId, "items": len(items)})
						}
						fmt.Fprintln(c.stdout, c.t("ctl.upload.done", "drone", a[0], "mission_id", it.MissionId, "items", strconv.Itoa(len(items))))
						return nil
					}
				}
			}},
		{path: "mission download", args: "DRONE", help: "print the drone's mission as a JSON mission file", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Mission.Download(ctx, &pb.DownloadMissionRequest{DroneId: a[0]})
				if err != nil {
					return err
				}
				file := missionFileJSON{Items: []missionItemJSON{}}
				for _, it := range r.GetItems() {
					file.Items = append(file.Items, missionItemJSON{Seq: it.GetSeq(), Frame: it.GetFrame(), Command: it.GetCommand(),
						Current: it.GetCurrent(), Autocontinue: it.GetAutocontinue(), Param1: it.GetParam1(), Param2: it.GetParam2(),
						Param3: it.GetParam3(), Param4: it.GetParam4(), Lat: it.GetLatDeg(), Lon: it.GetLonDeg(), Alt: it.GetAltM()})
				}
				return c.printJSON(file)
			}},
		unary("clear", "remove the drone's mission", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Mission.Clear(ctx, &pb.ClearMissionRequest{DroneId: id})
			return err
		}),
		{path: "mission start", args: "DRONE", help: "fly the mission from its first item (arms if needed)", nargs: 1,
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&override, "override", false, "skip the geofence check (audited)") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := context.WithTimeout(ctx, c.Timeout+60*time.Second) // arming may wait for pre-arm checks
				defer cancel()
				if _, err := cl.Mission.Start(ctx, &pb.StartMissionRequest{DroneId: a[0], Override: override}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "mission start"))
				return nil
			}},
		unary("pause", "hold the drone and remember where the mission stopped", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Mission.Pause(ctx, &pb.PauseMissionRequest{DroneId: id})
			return err
		}),
		unary("resume", "continue a paused or interrupted mission", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Mission.Resume(ctx, &pb.ResumeMissionRequest{DroneId: id})
			return err
		}),
		unary("abort", "end the mission and return home", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Mission.Abort(ctx, &pb.AbortMissionRequest{DroneId: id})
			return err
		}),
		{path: "mission progress", args: "DRONE", help: "print the mission's progress (--follow: until it ends)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				fs.BoolVar(&follow, "follow", false, "keep printing each change until the mission ends")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				if !follow {
					var cancelT context.CancelFunc
					ctx, cancelT = c.call(ctx)
					defer cancelT()
				}
				st, err := cl.Mission.WatchProgress(ctx, &pb.WatchMissionProgressRequest{DroneId: a[0]})
				if err != nil {
					return err
				}
				for {
					m, err := st.Recv()
					if err != nil {
						return err
					}
					s := m.GetStatus()
					if c.JSON {
						if err := c.printJSON(missionJSON(a[0], s)); err != nil {
							return err
						}
					} else if s.GetState() == pb.MissionState_MISSION_STATE_NONE {
						fmt.Fprintln(c.stdout, c.t("ctl.mission.none", "drone", a[0]))
					} else {
						eta := "-"
						if s.GetEta() != nil {
							eta = s.GetEta().AsDuration().Round(time.Second).String()
						}
						fmt.Fprintln(c.stdout, c.t("ctl.mission.progress", "drone", a[0], "mission_id", s.GetMissionId(),
							"state", c.state(missionStateName(s.GetState())), "seq", strconv.Itoa(int(s.GetCurrentSeq())),
							"last", strconv.Itoa(max(int(s.GetItems())-1, 0)), "percent", fnum(s.GetPercent(), 0), "eta", eta))
					}
					switch s.GetState() {
					case pb.MissionState_MISSION_STATE_RUNNING, pb.MissionState_MISSION_STATE_PAUSED:
						if follow {
							continue
						}
					}
					return nil
				}
			}},
	}
}

func missionJSON(id string, s *pb.MissionStatus) map[string]any {
	out := map[string]any{"drone_id": id, "mission_id": s.GetMissionId(), "state": missionStateName(s.GetState()),
		"seq": s.GetCurrentSeq(), "items": s.GetItems(), "percent": s.GetPercent(), "distance_m": s.GetDistanceM(),
		"remaining_m": s.GetRemainingM()}
	if s.GetEta() != nil {
		out["eta_s"] = s.GetEta().AsDuration().Seconds()
	}
	if r := s.GetInterruptReason(); r != "" {
		out["interrupt_reason"] = r
	}
	return out
}
