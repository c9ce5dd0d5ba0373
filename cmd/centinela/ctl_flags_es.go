package main

import (
	"flag"

	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// ctlFlagsES is the Spanish text of ctl's flag descriptions, by their
// English text (a back-quoted word is the value's name in the usage line).
// TestCtlFlagsSpanish fails when a flag of a ctl command has none.
var ctlFlagsES = map[string]string{
	"give the key to the system id's connected drones over their links (SETUP_SIGNING, sent in clear: only over a link that cannot be overheard)": "entrega la clave a los drones conectados del id de sistema por sus enlaces (SETUP_SIGNING, va en claro: solo por un enlace que no pueda ser escuchado)",
	"GeoJSON `file` with the area (perimeter, coverage; clips a corridor)":                                                                        "`archivo` GeoJSON con el área (perímetro, cobertura; recorta un corredor)",
	"GeoJSON `file` with the corridor's line":                                                                                                     "`archivo` GeoJSON con la línea del corredor",
	"PEM `file` of the CA (or certificate) to trust: speak TLS":                                                                                   "`archivo` PEM de la CA (o certificado) de confianza: habla TLS",
	"SHA-256 `fingerprint` of a --tls-self-signed server's certificate: speak TLS and trust exactly it":                                           "`huella` SHA-256 del certificado de un servidor --tls-self-signed: habla TLS y confía exactamente en él",
	"agency whose allowed space bounds the route (default: the drones')":                                                                          "agencia cuyo espacio permitido limita la ruta (por defecto: la de los drones)",
	"altitude above home, metres":                                             "altitud sobre el origen, metros",
	"altitude above home, metres (default 60)":                                "altitud sobre el origen, metros (por defecto 60)",
	"altitude above home, metres (default: keep)":                             "altitud sobre el origen, metros (por defecto: la actual)",
	"at most this many points (0: server default)":                            "como máximo tantos puntos (0: lo del servidor)",
	"at most this many updates per drone per second":                          "como máximo tantas actualizaciones por drone por segundo",
	"at most this many, newest kept":                                          "como máximo tantos, se conservan los más recientes",
	"bearer `token` (default $CENTINELA_TOKEN)":                               "`token` portador (por defecto $CENTINELA_TOKEN)",
	"corridor offset from its line, metres (default 150)":                     "distancia del corredor a su línea, metros (por defecto 150)",
	"corridor side: left or right (default: the drone's own)":                 "lado del corredor: left o right (por defecto: el propio del drone)",
	"coverage swath, metres (default 50)":                                     "ancho de franja de la cobertura, metros (por defecto 50)",
	"csv or geojson":                                                          "csv o geojson",
	"disarm even in flight":                                                   "desarma incluso en vuelo",
	"end a coverage near its start":                                           "termina la cobertura cerca de su inicio",
	"entries of this last while":                                              "entradas de este último lapso",
	"events of this last while":                                               "eventos de este último lapso",
	"every drone":                                                             "todos los drones",
	"every drone inside this polygon: `LAT,LON;LAT,LON;LAT,LON[;…]`":          "cada drone dentro de este polígono: `LAT,LON;LAT,LON;LAT,LON[;…]`",
	"every drone inside this zone":                                            "cada drone dentro de esta zona",
	"every drone of this agency":                                              "cada drone de esta agencia",
	"flight time of a full battery (default the profile's, or 25m)":           "tiempo de vuelo con batería llena (por defecto el del perfil, o 25m)",
	"fly a perimeter clockwise":                                               "vuela el perímetro en sentido horario",
	"gRPC `address` of centinela serve":                                       "`dirección` gRPC de centinela serve",
	"how long the grant lasts":                                                "cuánto dura la concesión",
	"include revoked and expired grants":                                      "incluye las concesiones revocadas y vencidas",
	"keep printing each change until the mission ends":                        "sigue imprimiendo cada cambio hasta que termine la misión",
	"keep trying while pre-arm checks fail, this long":                        "sigue intentando mientras fallen las comprobaciones previas al armado, este tiempo",
	"label shown in the audit log":                                            "etiqueta que se muestra en la bitácora de auditoría",
	"language of messages: en or es (default from LC_ALL, LC_MESSAGES, LANG)": "idioma de los mensajes: en o es (por defecto según LC_ALL, LC_MESSAGES, LANG)",
	"new agency":       "nueva agencia",
	"new display name": "nuevo nombre visible",
	"on a conflict, fly another altitude layer inside the zones' bands":        "ante un conflicto, vuela otra capa de altitud dentro de las bandas de las zonas",
	"on a conflict, start up to this much later":                               "ante un conflicto, inicia hasta este tiempo más tarde",
	"only alerts nobody acknowledged":                                          "solo las alertas que nadie reconoció",
	"only patrols holding a reservation":                                       "solo los patrullajes con una reserva",
	"only these drones (comma-separated)":                                      "solo estos drones (separados por comas)",
	"only these drones (comma-separated; default all of FROM)":                 "solo estos drones (separados por comas; por defecto todos los de ORIGEN)",
	"only these event kinds (comma-separated)":                                 "solo estos tipos de evento (separados por comas)",
	"only these kinds (comma-separated)":                                       "solo estos tipos (separados por comas)",
	"only this agency's drones":                                                "solo los drones de esta agencia",
	"only this agency's entries (caller or drone)":                             "solo las entradas de esta agencia (quien llama o el drone)",
	"only this drone's entries":                                                "solo las entradas de este drone",
	"only this drone's events":                                                 "solo los eventos de este drone",
	"patrol `kind`: perimeter, coverage, corridor, transit":                    "`tipo` de patrullaje: perimeter, coverage, corridor, transit",
	"patrol speed, m/s (default the drone's profile, or 10)":                   "velocidad del patrullaje, m/s (por defecto la del perfil del drone, o 10)",
	"perimeter laps, corridor out-and-backs (default 1)":                       "vueltas del perímetro, idas y vueltas del corredor (por defecto 1)",
	"plan ahead for a drone at `LAT,LON` (repeatable; instead of DRONE)":       "planea por adelantado para un drone en `LAT,LON` (repetible; en lugar de DRONE)",
	"print results as JSON (codes and numbers, no translation)":                "imprime los resultados como JSON (códigos y números, sin traducir)",
	"safety margin to walls and no-fly zones, metres (default 30)":             "margen de seguridad a los bordes y a las zonas de exclusión, metros (por defecto 30)",
	"skip the geofence check (audited)":                                        "omite la comprobación de geocercas (auditado)",
	"speak without TLS to a server that is not on loopback (it must allow it)": "habla sin TLS con un servidor que no está en loopback (debe permitirlo)",
	"stop after this many updates and events (0: until interrupted)":           "se detiene tras tantas actualizaciones y eventos (0: hasta que se interrumpa)",
	"supervisor, operator or admin":                                            "supervisor, operator o admin",
	"the holder's agency (required for operators)":                             "la agencia del titular (obligatoria para operadores)",
	"the track of this last while":                                             "la trayectoria de este último lapso",
	"time limit of each call":                                                  "tiempo límite de cada llamada",
	"transit destination `LAT,LON`":                                            "destino del tránsito `LAT,LON`",
}

// localizeFlags puts fs's flag descriptions into c's language.
func (c *ctlConfig) localizeFlags(fs *flag.FlagSet) {
	if c.lang != i18n.Es {
		return
	}
	fs.VisitAll(func(f *flag.Flag) {
		if s, ok := ctlFlagsES[f.Usage]; ok {
			f.Usage = s
		}
	})
}
