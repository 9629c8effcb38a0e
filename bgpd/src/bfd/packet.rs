//! The BFD Control packet (RFC 5880 §4.1), mandatory section only: parse and emit.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! |                       My Discriminator                        |
//! |                      Your Discriminator                       |
//! |                    Desired Min TX Interval                    |
//! |                   Required Min RX Interval                    |
//! |                 Required Min Echo RX Interval                 |
//! ```
//! Authentication (the A bit) is not supported: such packets are refused, as RFC 5880 §6.8.6
//! asks of a session without authentication.

use std::fmt;
use std::time::Duration;

/// Length of the mandatory section, and of every packet we send.
pub const PACKET_LEN: usize = 24;
/// RFC 5880 §4.1: the protocol version.
pub const VERSION: u8 = 1;

/// RFC 5880 §4.1 "Sta": the session state a system reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionState {
    AdminDown,
    Down,
    Init,
    Up,
}

impl SessionState {
    fn from_bits(b: u8) -> SessionState {
        match b & 3 {
            0 => SessionState::AdminDown,
            1 => SessionState::Down,
            2 => SessionState::Init,
            _ => SessionState::Up,
        }
    }

    fn bits(self) -> u8 {
        match self {
            SessionState::AdminDown => 0,
            SessionState::Down => 1,
            SessionState::Init => 2,
            SessionState::Up => 3,
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // BIRD's `bfd_state_names`.
        f.write_str(match self {
            SessionState::AdminDown => "AdminDown",
            SessionState::Down => "Down",
            SessionState::Init => "Init",
            SessionState::Up => "Up",
        })
    }
}

/// RFC 5880 §4.1 "Diag": why the sender's session last left Up (5 bits; values above 8 are
/// reserved but carried as they came).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Diag(pub u8);

impl Diag {
    pub const NONE: Diag = Diag(0);
    pub const CONTROL_DETECTION_TIME_EXPIRED: Diag = Diag(1);
    pub const ECHO_FAILED: Diag = Diag(2);
    pub const NEIGHBOR_SIGNALED_DOWN: Diag = Diag(3);
    pub const FORWARDING_PLANE_RESET: Diag = Diag(4);
    pub const PATH_DOWN: Diag = Diag(5);
    pub const CONCATENATED_PATH_DOWN: Diag = Diag(6);
    pub const ADMINISTRATIVELY_DOWN: Diag = Diag(7);
    pub const REVERSE_CONCATENATED_PATH_DOWN: Diag = Diag(8);
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            0 => "No Diagnostic",
            1 => "Control Detection Time Expired",
            2 => "Echo Function Failed",
            3 => "Neighbor Signaled Session Down",
            4 => "Forwarding Plane Reset",
            5 => "Path Down",
            6 => "Concatenated Path Down",
            7 => "Administratively Down",
            8 => "Reverse Concatenated Path Down",
            _ => "Reserved",
        })
    }
}

/// A BFD discriminator (RFC 5880 §6.3); ours are never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Discriminator(pub u32);

impl fmt::Display for Discriminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An interval field: microseconds on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Micros(pub u32);

impl Micros {
    /// Saturates at `u32::MAX` µs (about 71 minutes).
    pub fn from_duration(d: Duration) -> Micros {
        Micros(u32::try_from(d.as_micros()).unwrap_or(u32::MAX))
    }

    pub fn duration(self) -> Duration {
        Duration::from_micros(u64::from(self.0))
    }
}

/// The mandatory section of a Control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPacket {
    pub diag: Diag,
    pub state: SessionState,
    /// P: the sender asks for a parameter change to be confirmed.
    pub poll: bool,
    /// F: the answer to a Poll.
    pub final_: bool,
    /// C: the sender's BFD does not share fate with its control plane.
    pub control_plane_independent: bool,
    /// D: the sender wishes to use Demand mode (never set by us).
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discriminator: Discriminator,
    pub your_discriminator: Discriminator,
    pub desired_min_tx: Micros,
    pub required_min_rx: Micros,
    pub required_min_echo_rx: Micros,
}

/// Why a received datagram is not a Control packet we accept (RFC 5880 §6.8.6, first checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("{0} octets, shorter than a BFD Control packet (24)")]
    TooShort(usize),
    #[error("version {0}, only 1 is known")]
    Version(u8),
    #[error("length field {field} is invalid for a datagram of {datagram} octets")]
    Length { field: u8, datagram: usize },
    #[error("detect multiplier is zero")]
    ZeroDetectMult,
    #[error("multipoint bit set")]
    Multipoint,
    #[error("my discriminator is zero")]
    ZeroMyDiscriminator,
    #[error("authentication present, not configured")]
    Authentication,
}

impl ControlPacket {
    /// Parses one UDP payload (RFC 5880 §6.8.6: every check that needs no session state).
    pub fn decode(b: &[u8]) -> Result<ControlPacket, PacketError> {
        if b.len() < PACKET_LEN {
            return Err(PacketError::TooShort(b.len()));
        }
        let version = b[0] >> 5;
        if version != VERSION {
            return Err(PacketError::Version(version));
        }
        let flags = b[1];
        let auth = flags & 0x04 != 0;
        let length = b[3];
        let min = if auth { 26 } else { PACKET_LEN };
        if usize::from(length) < min || usize::from(length) > b.len() {
            return Err(PacketError::Length {
                field: length,
                datagram: b.len(),
            });
        }
        if b[2] == 0 {
            return Err(PacketError::ZeroDetectMult);
        }
        if flags & 0x01 != 0 {
            return Err(PacketError::Multipoint);
        }
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let my = word(4);
        if my == 0 {
            return Err(PacketError::ZeroMyDiscriminator);
        }
        if auth {
            return Err(PacketError::Authentication);
        }
        Ok(ControlPacket {
            diag: Diag(b[0] & 0x1f),
            state: SessionState::from_bits(flags >> 6),
            poll: flags & 0x20 != 0,
            final_: flags & 0x10 != 0,
            control_plane_independent: flags & 0x08 != 0,
            demand: flags & 0x02 != 0,
            detect_mult: b[2],
            my_discriminator: Discriminator(my),
            your_discriminator: Discriminator(word(8)),
            desired_min_tx: Micros(word(12)),
            required_min_rx: Micros(word(16)),
            required_min_echo_rx: Micros(word(20)),
        })
    }

    /// The 24 octets on the wire.
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut b = [0u8; PACKET_LEN];
        b[0] = (VERSION << 5) | (self.diag.0 & 0x1f);
        b[1] = (self.state.bits() << 6)
            | (u8::from(self.poll) << 5)
            | (u8::from(self.final_) << 4)
            | (u8::from(self.control_plane_independent) << 3)
            | (u8::from(self.demand) << 1);
        b[2] = self.detect_mult;
        b[3] = PACKET_LEN as u8;
        b[4..8].copy_from_slice(&self.my_discriminator.0.to_be_bytes());
        b[8..12].copy_from_slice(&self.your_discriminator.0.to_be_bytes());
        b[12..16].copy_from_slice(&self.desired_min_tx.0.to_be_bytes());
        b[16..20].copy_from_slice(&self.required_min_rx.0.to_be_bytes());
        b[20..24].copy_from_slice(&self.required_min_echo_rx.0.to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests;
