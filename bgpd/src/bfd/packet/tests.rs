//! Codec tests on Control packets captured from real daemons: FRR 8.4.4's bfdd (10.99.0.1,
//! profile 300 ms x 3) and BIRD 2.0.12 (10.99.0.2, `interval 300 ms; multiplier 3;`), peering
//! with each other in two namespaces (`tcpdump -i eth0 udp port 3784`, UDP payloads as hex;
//! the capture is `interop-tests/tests/bfd/frr-bfdd-vs-bird2.pcap`).

use super::*;

fn bytes(h: &str) -> Vec<u8> {
    hex::decode(h).expect("test vector is hex")
}

/// FRR, Down, no remote discriminator yet: the slow 1 s rate of RFC 5880 §6.8.3, and FRR's
/// 50 ms echo receive interval.
const FRR_DOWN: &str = concat!(
    "20",       // version 1, diag 0
    "40",       // Sta=Down(01), no flags
    "03",       // detect mult 3
    "18",       // length 24
    "0b564d4d", // my discriminator
    "00000000", // your discriminator: not known yet
    "000f4240", // desired min TX 1,000,000 µs
    "000f4240", // required min RX 1,000,000 µs
    "0000c350", // required min echo RX 50,000 µs
);
/// FRR answering BIRD's Down: Init.
const FRR_INIT: &str = "208003180b564d4dd9fe9828000f4240000f42400000c350";
/// FRR, Up with Poll (the switch from 1 s to 300 ms, §6.8.3).
const FRR_UP_POLL: &str = "20e003180b564d4dd9fe9828000493e0000493e00000c350";
/// FRR's Final answering BIRD's Poll.
const FRR_UP_FINAL: &str = "20d003180b564d4dd9fe9828000493e0000493e00000c350";
/// FRR, Up, steady state.
const FRR_UP: &str = "20c003184298b733f5a215a9000493e0000493e00000c350";
/// FRR, Down with diag 3 (Neighbor Signaled Session Down).
const FRR_DOWN_NEIGHBOR: &str = "234003180b564d4dd9fe9828000493e0000493e00000c350";
/// FRR, Down with diag 1 (Control Detection Time Expired) after BIRD stopped.
const FRR_DOWN_EXPIRED: &str = "214003184298b73300000000000f4240000f42400000c350";
/// BIRD 2, Down: 1 s TX while not Up, but its configured 300 ms RX, no echo.
const BIRD_DOWN: &str = concat!(
    "20",       // version 1, diag 0
    "40",       // Sta=Down
    "03",       // detect mult 3
    "18",       // length 24
    "d9fe9828", // my discriminator
    "00000000", // your discriminator
    "000f4240", // desired min TX 1 s
    "000493e0", // required min RX 300 ms
    "00000000", // no echo
);
/// BIRD 2, Up with Poll.
const BIRD_UP_POLL: &str = "20e00318d9fe98280b564d4d000493e0000493e000000000";
/// BIRD 2, Up with Final.
const BIRD_UP_FINAL: &str = "20d00318d9fe98280b564d4d000493e0000493e000000000";
/// BIRD 2, Up.
const BIRD_UP: &str = "20c00318f5a215a94298b733000493e0000493e000000000";
/// BIRD 2, Down (diag 3) with Poll: back to the 1 s rate.
const BIRD_DOWN_POLL: &str = "23600318d9fe98280b564d4d000f4240000493e000000000";

fn decode(h: &str) -> ControlPacket {
    ControlPacket::decode(&bytes(h)).expect("captured packet decodes")
}

#[test]
fn decodes_frr_down_with_its_slow_rate_and_echo_interval() {
    let p = decode(FRR_DOWN);
    assert_eq!(
        p,
        ControlPacket {
            diag: Diag::NONE,
            state: SessionState::Down,
            poll: false,
            final_: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: Discriminator(0x0b56_4d4d),
            your_discriminator: Discriminator(0),
            desired_min_tx: Micros(1_000_000),
            required_min_rx: Micros(1_000_000),
            required_min_echo_rx: Micros(50_000),
        }
    );
    assert_eq!(p.desired_min_tx.duration(), Duration::from_secs(1));
}

#[test]
fn decodes_states_and_poll_final_bits_of_both_daemons() {
    let cases = [
        (FRR_INIT, SessionState::Init, false, false, Diag::NONE),
        (FRR_UP_POLL, SessionState::Up, true, false, Diag::NONE),
        (FRR_UP_FINAL, SessionState::Up, false, true, Diag::NONE),
        (FRR_UP, SessionState::Up, false, false, Diag::NONE),
        (
            FRR_DOWN_NEIGHBOR,
            SessionState::Down,
            false,
            false,
            Diag::NEIGHBOR_SIGNALED_DOWN,
        ),
        (
            FRR_DOWN_EXPIRED,
            SessionState::Down,
            false,
            false,
            Diag::CONTROL_DETECTION_TIME_EXPIRED,
        ),
        (BIRD_DOWN, SessionState::Down, false, false, Diag::NONE),
        (BIRD_UP_POLL, SessionState::Up, true, false, Diag::NONE),
        (BIRD_UP_FINAL, SessionState::Up, false, true, Diag::NONE),
        (BIRD_UP, SessionState::Up, false, false, Diag::NONE),
        (
            BIRD_DOWN_POLL,
            SessionState::Down,
            true,
            false,
            Diag::NEIGHBOR_SIGNALED_DOWN,
        ),
    ];
    for (h, state, poll, fin, diag) in cases {
        let p = decode(h);
        assert_eq!(
            (p.state, p.poll, p.final_, p.diag),
            (state, poll, fin, diag),
            "{h}"
        );
        assert_eq!(p.detect_mult, 3, "{h}");
    }
    let b = decode(BIRD_DOWN);
    assert_eq!(b.required_min_rx, Micros(300_000));
    assert_eq!(b.required_min_echo_rx, Micros(0));
    let up = decode(BIRD_UP);
    assert_eq!(up.my_discriminator, Discriminator(0xf5a2_15a9));
    assert_eq!(up.your_discriminator, Discriminator(0x4298_b733));
}

#[test]
fn encodes_every_captured_packet_back_to_the_same_bytes() {
    for h in [
        FRR_DOWN,
        FRR_INIT,
        FRR_UP_POLL,
        FRR_UP_FINAL,
        FRR_UP,
        FRR_DOWN_NEIGHBOR,
        FRR_DOWN_EXPIRED,
        BIRD_DOWN,
        BIRD_UP_POLL,
        BIRD_UP_FINAL,
        BIRD_UP,
        BIRD_DOWN_POLL,
    ] {
        assert_eq!(decode(h).encode().to_vec(), bytes(h), "{h}");
    }
}

#[test]
fn refuses_what_rfc_5880_section_6_8_6_discards() {
    let good = bytes(FRR_UP);
    let mut v = good.clone();
    v[0] = 0x40; // version 2
    assert_eq!(ControlPacket::decode(&v), Err(PacketError::Version(2)));
    assert_eq!(
        ControlPacket::decode(&good[..23]),
        Err(PacketError::TooShort(23))
    );
    let mut v = good.clone();
    v[3] = 30; // longer than the datagram
    assert!(matches!(
        ControlPacket::decode(&v),
        Err(PacketError::Length { field: 30, .. })
    ));
    let mut v = good.clone();
    v[2] = 0;
    assert_eq!(ControlPacket::decode(&v), Err(PacketError::ZeroDetectMult));
    let mut v = good.clone();
    v[1] |= 0x01;
    assert_eq!(ControlPacket::decode(&v), Err(PacketError::Multipoint));
    let mut v = good.clone();
    v[4..8].copy_from_slice(&[0; 4]);
    assert_eq!(
        ControlPacket::decode(&v),
        Err(PacketError::ZeroMyDiscriminator)
    );
    let mut v = good.clone();
    v[1] |= 0x04;
    v[3] = 28;
    v.extend_from_slice(&[1, 4, 0, 0]);
    assert_eq!(ControlPacket::decode(&v), Err(PacketError::Authentication));
}

#[test]
fn decode_never_panics_on_truncations_and_bit_flips() {
    let good = bytes(BIRD_UP_POLL);
    for n in 0..good.len() {
        let _ = ControlPacket::decode(&good[..n]);
    }
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut v = good.clone();
            v[i] ^= 1 << bit;
            if let Ok(p) = ControlPacket::decode(&v) {
                assert_eq!(p.encode().len(), PACKET_LEN);
            }
        }
    }
}
