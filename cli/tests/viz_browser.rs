//! `gomap viz` end to end in headless Chromium, driven through chromedriver's WebDriver HTTP
//! protocol: the page opens offline, draws exactly as many main buckets as the live map has at
//! the frame shown, follows the slider (B and nevacuate change), and a screenshot is saved.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails, unless `GOMAP_SKIP_BROWSER=1` says to skip it.

mod viz_common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use viz_common::{draw, gomap, page_data, stderr, Drawn, Replay, SyncReplay};

/// The flags the page must work under: no sandbox (CI runs as root), nothing in the
/// background that could reach the network.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
];

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// One HTTP/1.1 request to chromedriver; the JSON body of its answer.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to chromedriver");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver keeps the connection open: read the header, then its Content-Length.
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let at = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).expect("chromedriver answer");
        assert!(
            n > 0,
            "{method} {path}: connection closed before the header"
        );
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
    let mut payload = raw[at + 4..].to_vec();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().expect("Content-Length"));
    match length {
        Some(length) => {
            while payload.len() < length {
                let n = stream.read(&mut buf).expect("chromedriver answer");
                assert!(n > 0, "{method} {path}: connection closed mid-body");
                payload.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            stream
                .read_to_end(&mut payload)
                .expect("chromedriver answer");
            if head.contains("transfer-encoding: chunked") {
                payload = dechunk(&payload);
            }
        }
    }
    serde_json::from_slice(&payload)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {head}"))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..line_end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    out
}

/// A chromedriver process and one browser session, both ended on drop (also when a check
/// fails).
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path, profile: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && http(port, "GET", "/status", None)["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver not ready in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }}});
        let answer = http(port, "POST", "/session", Some(&caps));
        browser.session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        browser
    }

    fn cmd(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        let answer = http(self.port, method, &path, body.as_ref());
        if answer["value"].get("error").is_some() {
            panic!("{method} {what}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .expect("element id")
            .to_string()
    }

    /// Types `keys` into the element, as a user's keyboard would.
    fn keys(&self, css: &str, keys: &str) {
        let id = self.element(css);
        self.cmd(
            "POST",
            &format!("element/{id}/value"),
            Some(json!({ "text": keys })),
        );
    }

    fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "screenshot", None);
        std::fs::write(path, base64_decode(b64.as_str().unwrap())).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = std::panic::catch_unwind(|| http(self.port, "DELETE", &path, None));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// What the page shows right now.
#[derive(Debug)]
struct Shown {
    frame: usize,
    step: usize,
    b: String,
    nevacuate: String,
    main_buckets: usize,
    old_main_buckets: usize,
    overflow_buckets: usize,
}

const READ_PAGE: &str = r#"
  const q = (s) => document.querySelectorAll(s).length;
  return {
    frame: +document.body.dataset.frame,
    step: +document.getElementById("hdr-step").dataset.step,
    b: document.getElementById("hdr-b").textContent,
    nevacuate: document.getElementById("hdr-nevacuate").textContent,
    main: q("[data-bucket]:not([data-old]):not([data-overflow])"),
    old: q("[data-bucket][data-old]:not([data-overflow])"),
    overflow: q("[data-bucket][data-overflow]:not([data-old])"),
  };"#;

fn shown(b: &Browser) -> Shown {
    let v = b.js(READ_PAGE);
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")) as usize;
    Shown {
        frame: n("frame"),
        step: n("step"),
        b: v["b"].as_str().unwrap().to_string(),
        nevacuate: v["nevacuate"].as_str().unwrap().to_string(),
        main_buckets: n("main"),
        old_main_buckets: n("old"),
        overflow_buckets: n("overflow"),
    }
}

/// Moves the slider as a script does (value + input event, what dragging fires).
fn slide_to(b: &Browser, frame: usize) {
    b.js(&format!(
        "const t = document.getElementById('timeline'); t.value = {frame}; \
         t.dispatchEvent(new Event('input', {{ bubbles: true }}));"
    ));
}

/// The page's figures at the frame shown must be the live map's at that step.
fn check_against_map(s: &Shown, replay: &mut Replay) {
    let stats = replay.stats_at(s.step);
    assert_eq!(
        s.main_buckets, stats.buckets,
        "frame {} (step {}): drawn main buckets vs stats().buckets",
        s.frame, s.step
    );
    assert_eq!(s.b, stats.b.to_string(), "frame {}: B", s.frame);
    assert_eq!(
        s.overflow_buckets, stats.overflow_buckets,
        "frame {}: drawn overflow buckets vs noverflow",
        s.frame
    );
    match stats.old_b {
        Some(old_b) => {
            assert_eq!(
                s.old_main_buckets,
                1 << old_b,
                "frame {}: old array",
                s.frame
            );
            assert_eq!(
                s.nevacuate,
                stats.nevacuate.to_string(),
                "frame {}",
                s.frame
            );
        }
        None => {
            assert_eq!(s.old_main_buckets, 0, "frame {}: no old array", s.frame);
            assert_eq!(s.nevacuate, "-", "frame {}", s.frame);
        }
    }
}

/// Chromium and chromedriver, or `None` (after saying so) when `GOMAP_SKIP_BROWSER=1`.
/// Without them the test fails: CI installs them, so a missing browser is a broken setup.
fn browser_paths() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("GOMAP_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("SKIPPED: GOMAP_SKIP_BROWSER=1, the viz page is not tested in a browser");
        return None;
    }
    let chromium = find(
        "GOMAP_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    )
    .expect(
        "no Chromium: install Debian's `chromium` and `chromium-driver` (as .ci/run does), \
         or set GOMAP_SKIP_BROWSER=1 to skip this test",
    );
    let chromedriver = find("GOMAP_CHROMEDRIVER", &["/usr/bin/chromedriver"]).expect(
        "no chromedriver: install Debian's `chromium-driver` (as .ci/run does), or set \
         GOMAP_SKIP_BROWSER=1 to skip this test",
    );
    Some((chromium, chromedriver))
}

#[test]
fn the_page_in_headless_chromium() {
    let Some((chromium, chromedriver)) = browser_paths() else {
        return;
    };
    let Drawn {
        dir: _dir,
        page,
        data,
        ops,
    } = draw(&["viz", "--keys", "200"]);
    let frames = data["frames"].as_array().unwrap();
    let mut replay = Replay::new(ops, 42);

    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&chromium, &chromedriver, profile.path());
    browser.goto(&format!("file://{}", page.display()));

    // Opened offline: nothing was fetched, the script ran and drew the first frame.
    let fetched = browser.js("return performance.getEntriesByType('resource').length;");
    assert_eq!(fetched, 0, "the page fetched something");
    let first = shown(&browser);
    assert_eq!((first.frame, first.step), (0, 0));
    check_against_map(&first, &mut replay);

    // The keyboard on the slider: End goes to the last frame.
    browser.keys("#timeline", "\u{E010}");
    let last = shown(&browser);
    assert_eq!(last.frame, frames.len() - 1);
    assert_eq!(last.step, replay.len());
    check_against_map(&last, &mut replay);
    assert_ne!(last.b, first.b, "B shown follows the slider");

    // Every frame where something happens, plus every frame of the first doubling with an
    // old array of at least 8 buckets: the drawing matches the live map each time.
    let mut nevacuate_seen = std::collections::BTreeSet::new();
    let mut b_seen = std::collections::BTreeSet::new();
    let mut screenshot_frame = None;
    for (f, frame) in frames.iter().enumerate() {
        let st = &frame["stats"];
        let doubling_8 = st["growing"] == true && st["old_b"] == 3;
        if frame["event"].is_null() && !doubling_8 && f % 25 != 0 {
            continue;
        }
        slide_to(&browser, f);
        let s = shown(&browser);
        assert_eq!(s.frame, f);
        check_against_map(&s, &mut replay);
        nevacuate_seen.insert(s.nevacuate.clone());
        b_seen.insert(s.b.clone());
        // A mid-growth frame of the B 4 -> 5 doubling that evacuated something: the picture.
        if screenshot_frame.is_none()
            && st["old_b"] == 4
            && st["b"] == 5
            && st["nevacuate"].as_u64().unwrap_or(0) >= 4
            && !frame["moved"].as_array().unwrap().is_empty()
        {
            screenshot_frame = Some(f);
        }
    }
    assert!(b_seen.len() >= 5, "B shown: {b_seen:?}");
    assert!(
        nevacuate_seen.len() >= 4,
        "nevacuate shown: {nevacuate_seen:?}"
    );

    // The next/prev buttons step one frame.
    let f = screenshot_frame.expect("a frame in the middle of the B 4 -> 5 growth");
    slide_to(&browser, f - 1);
    browser.cmd(
        "POST",
        &format!("element/{}/click", browser.element("#next")),
        Some(json!({})),
    );
    let s = shown(&browser);
    assert_eq!(s.frame, f);
    check_against_map(&s, &mut replay);
    let arrows =
        browser.js("return document.querySelectorAll('#map-svg .xy-x, #map-svg .xy-y').length;");
    assert!(
        arrows.as_u64().unwrap() >= 1,
        "X/Y arrows for the evacuated bucket"
    );

    let shot = std::env::var_os("GOMAP_VIZ_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("viz.png"));
    browser.screenshot(&shot);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    assert!(png.len() > 10_000, "a screenshot with something on it");
    eprintln!("screenshot of frame {f}: {}", shot.display());
}

#[test]
fn a_large_map_shows_the_overview_and_zooms() {
    let Some((chromium, chromedriver)) = browser_paths() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("big.html");
    let o = gomap(&["viz", "--keys", "15000", "--out", page.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let data = page_data(&std::fs::read_to_string(&page).unwrap());
    let last = data["frames"].as_array().unwrap().len() - 1;
    assert_eq!(data["frames"][last]["stats"]["buckets"], 4096);

    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&chromium, &chromedriver, profile.path());
    browser.goto(&format!("file://{}", page.display()));
    slide_to(&browser, last);
    let drawn = |b: &Browser| -> Vec<u64> {
        let v = b.js(
            "return [...document.querySelectorAll('[data-bucket]:not([data-old]):not([data-overflow])')]\
             .map(e => +e.dataset.bucket);",
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .collect()
    };
    let v = browser.js(
        "return { hidden: document.getElementById('overview').hidden, \
         cells: document.querySelectorAll('#heat rect').length };",
    );
    assert_eq!(v["hidden"], false, "4,096 buckets get the overview");
    assert!(v["cells"].as_u64().unwrap() > 200, "heat strip: {v}");
    assert_eq!(drawn(&browser), (0..128).collect::<Vec<u64>>());

    // Zoom by typing a range start, then by clicking the middle of the strip.
    browser.js(
        "const z = document.getElementById('zoom-from'); z.value = 1000; \
         z.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    assert_eq!(drawn(&browser), (1000..1128).collect::<Vec<u64>>());
    browser.cmd(
        "POST",
        &format!("element/{}/click", browser.element("#heat")),
        Some(json!({})),
    );
    let mid = drawn(&browser);
    assert_eq!(mid.len(), 128);
    assert!(
        (1900..2100).contains(&mid[64]),
        "a click in the middle of the strip centres the zoom near bucket 2048: {mid:?}"
    );
}

#[test]
fn the_sync_map_view_follows_the_slider() {
    let Some((chromium, chromedriver)) = browser_paths() else {
        return;
    };
    let Drawn {
        dir: _dir,
        page,
        data,
        ops,
    } = draw(&["viz", "--sync-map", "--keys", "100"]);
    let frames = data["frames"].as_array().unwrap();
    let first_promotion = frames
        .iter()
        .position(|f| f["sync"]["promotions"] == 1)
        .expect("a promotion");
    let mut sync = SyncReplay::new(ops, 42);

    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&chromium, &chromedriver, profile.path());
    browser.goto(&format!("file://{}", page.display()));
    let read = |b: &Browser| {
        b.js(
            r#"const t = (id) => document.getElementById(id).textContent;
            return { hidden: document.getElementById("sync").hidden,
              step: +document.getElementById("hdr-step").dataset.step,
              read: t("sync-read"), dirty: t("sync-dirty"), amended: t("sync-amended"),
              misses: t("sync-misses"), promotions: t("sync-promotions") };"#,
        )
    };
    let mut shown_promotions = Vec::new();
    for f in [first_promotion - 1, first_promotion, frames.len() - 1] {
        slide_to(&browser, f);
        let v = read(&browser);
        assert_eq!(v["hidden"], false, "the sync.Map section is shown");
        let s = sync.stats_at(v["step"].as_u64().unwrap() as usize);
        assert_eq!(v["read"], s.read_len.to_string(), "frame {f}: {v}");
        if !s.copying {
            let dirty = s.dirty_len.map_or("nil".to_string(), |d| d.to_string());
            assert_eq!(v["dirty"], dirty, "frame {f}: {v}");
        }
        assert_eq!(v["amended"], s.amended.to_string(), "frame {f}: {v}");
        assert_eq!(v["misses"], s.misses.to_string(), "frame {f}: {v}");
        assert_eq!(v["promotions"], s.promotions.to_string(), "frame {f}: {v}");
        shown_promotions.push(s.promotions);
    }
    assert_eq!(shown_promotions, [0, 1, 2]);

    // After the promotion, deletes leave nil entries; the next new key rebuilds the dirty map
    // and, once its copy is done, the deleted entries are drawn expunged in the snapshot and
    // absent from the dirty map: the live map's states, cell for cell.
    let rebuilt = (first_promotion..frames.len())
        .find(|&f| {
            let y = &frames[f]["sync"];
            y["promotions"] == 1 && !y["dirty_len"].is_null() && y["copying"] == false
        })
        .expect("a frame after the dirty map's rebuild");
    slide_to(&browser, rebuilt);
    let cells = browser.js(
        r##"return [...document.querySelectorAll("#sync-svg .sync-entry")].map((e) =>
            [e.dataset.map, e.dataset.key, e.dataset.state]);"##,
    );
    let cells: Vec<(String, String, String)> = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |i: usize| c[i].as_str().unwrap().to_string();
            (s(0), s(1), s(2))
        })
        .collect();
    let step = frames[rebuilt]["step"].as_u64().unwrap() as usize;
    let layout = sync.layout_at(step);
    let mut want: Vec<(String, String, String)> = layout
        .read
        .iter()
        .map(|(k, s)| ("read".to_string(), k.clone(), s.name().to_string()))
        .chain(
            layout
                .dirty
                .iter()
                .flatten()
                .map(|(k, s)| ("dirty".to_string(), k.clone(), s.name().to_string())),
        )
        .collect();
    let mut got = cells.clone();
    want.sort();
    got.sort();
    assert_eq!(
        got, want,
        "frame {rebuilt} (step {step}): drawn entries vs layout()"
    );
    let expunged: Vec<&String> = cells
        .iter()
        .filter(|(m, _, s)| m == "read" && s == "expunged")
        .map(|(_, k, _)| k)
        .collect();
    assert!(
        !expunged.is_empty(),
        "no expunged entry drawn at frame {rebuilt}"
    );
    for k in &expunged {
        assert!(
            !cells.iter().any(|(m, key, _)| m == "dirty" && key == *k),
            "expunged key {k} drawn in the dirty map"
        );
    }
    let text = browser.js(r#"return document.getElementById("sync-read-states").textContent;"#);
    assert!(
        text.as_str()
            .unwrap()
            .contains(&format!("{} expunged", expunged.len())),
        "{text}"
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("viz-sync.png");
    slide_to(&browser, rebuilt);
    browser.screenshot(&shot);
    eprintln!("screenshot of the sync.Map view: {}", shot.display());
}
