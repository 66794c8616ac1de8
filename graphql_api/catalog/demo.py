"""A deterministic, offline generator for a realistic demo catalog.

Every product is built from its own `random.Random(f"{seed}:{index}")`, so output never depends
on global random state, and the first N products of any run equal a run of N: seeding 1,000
products now and 100,000 later gives one consistent catalog. All brands, product lines and copy
are invented here.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

CURRENCY = "USD"
IMAGE_BASE_URL = "https://cdn.demo-shop.example/products"

_T = TypeVar("_T")


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    slug: str
    name: str
    description: str
    price: Decimal
    currency: str
    discount_percent: int
    stock: int
    brand: str
    category_slug: str
    tags: tuple[str, ...]
    images: tuple[str, ...]
    rating: Decimal
    review_count: int


_RANGE = re.compile(r"\{(-?\d+)-(-?\d+)\}")
_NON_SLUG = re.compile(r"[^a-z0-9]+")

# A detail sentence as a format string plus the integer range for each positional field.
_Detail = tuple[str, tuple[tuple[int, int], ...]]


def _t(text: str) -> tuple[str, ...]:
    """Pools are written as `|`-separated strings to keep the tables below readable."""
    return tuple(part.strip() for part in text.split("|") if part.strip())


def _compile(template: str) -> _Detail:
    """`"up to {8-40} hours"` -> (`"up to {0} hours"`, ((8, 40),)); parsed once at import."""
    ranges: list[tuple[int, int]] = []

    def repl(m: re.Match[str]) -> str:
        ranges.append((int(m.group(1)), int(m.group(2))))
        return "{" + str(len(ranges) - 1) + "}"

    return _RANGE.sub(repl, template), tuple(ranges)


@dataclass(frozen=True)
class _Kind:
    """One type of product within a category; its pools only make sense together."""

    noun: str
    price_band: tuple[int, int]  # whole dollars, inclusive
    features: tuple[str, ...]  # go before the noun: "Wireless Noise-Cancelling"
    variants: tuple[str, ...]  # colour / size / capacity, after the dash
    details: tuple[_Detail, ...]  # `{lo-hi}` placeholders become random integers
    tags: tuple[str, ...]


def _k(noun: str, band: tuple[int, int], features: str, variants: str, details: str, tags: str = "") -> _Kind:
    return _Kind(noun, band, _t(features), _t(variants), tuple(_compile(d) for d in _t(details)), _t(tags))


@dataclass(frozen=True)
class _Spec:
    slug: str
    name: str
    description: str
    sku_prefix: str
    weight: int  # relative share of the catalog
    brands: tuple[str, ...]
    lines: tuple[str, ...]  # product lines / series
    tags: tuple[str, ...]
    pitches: tuple[str, ...]  # "built for <pitch>"
    kinds: tuple[_Kind, ...]
    numbered: bool = False  # tech-style model numbers ("X2", "Pulse 7 Pro")

    @property
    def price_band(self) -> tuple[int, int]:
        return min(k.price_band[0] for k in self.kinds), max(k.price_band[1] for k in self.kinds)


def _s(
    slug: str,
    name: str,
    description: str,
    prefix: str,
    weight: int,
    brands: str,
    lines: str,
    tags: str,
    pitches: str,
    kinds: Sequence[_Kind],
    numbered: bool = False,
) -> _Spec:
    return _Spec(
        slug=slug,
        name=name,
        description=description,
        sku_prefix=prefix,
        weight=weight,
        brands=_t(brands),
        lines=_t(lines),
        tags=_t(tags),
        pitches=_t(pitches),
        kinds=tuple(kinds),
        numbered=numbered,
    )


_COLOURS = (
    "Midnight Black | Arctic White | Graphite | Silver | Midnight Blue | Forest Green | Coral"
    " | Sand Beige | Slate Grey | Burgundy"
)

# The tables are laid out by hand for reading; the formatter would put every field on a line.
# fmt: off
_SPECS: tuple[_Spec, ...] = (
    _s(
        "smartphones", "Smartphones", "Unlocked smartphones, from budget-friendly to flagship.",
        "SPH", 5,
        "Novaxa | Zephyra | Orbis | Falconet Mobile | Lumio | Vantrix",
        "Lyra | Pulse | Crest | Vista | Orbit | Flux",
        "smartphone | android | unlocked | 5g",
        "busy days on the go | mobile photography | gaming on the move | staying connected",
        [
            _k("Smartphone", (149, 1299), "Unlocked | Dual-SIM | 5G | Compact",
               "128 GB, Graphite | 256 GB, Silver | 256 GB, Midnight Blue | 512 GB, Arctic White"
               " | 128 GB, Coral | 1 TB, Midnight Black",
               "Its {6-7}.{1-9}-inch OLED display refreshes at 120 Hz for smooth scrolling."
               " | A {4000-5500} mAh battery comfortably lasts a full day."
               " | The {48-200} MP main camera captures sharp detail even in low light."
               " | It charges to 50% in about {18-35} minutes with a compatible adapter.",
               "oled | fast-charging | dual-sim"),
            _k("Foldable Smartphone", (899, 1899), "Flip | Fold | Ultra-Thin",
               "256 GB, Graphite | 512 GB, Cream | 512 GB, Lavender | 1 TB, Midnight Black",
               "Unfolds into a {7-8}-inch tablet-sized screen."
               " | The hinge is tested for {200000-400000} folds."
               " | A cover display handles messages without opening the phone.",
               "foldable | oled"),
            _k("Rugged Smartphone", (199, 699), "Waterproof | Shockproof | Outdoor",
               "128 GB, Black | 128 GB, Orange | 256 GB, Army Green",
               "An IP68 and IP69K rating keeps it safe from dust, mud and water jets."
               " | It survives drops from {1-2} metres onto concrete."
               " | A {6000-10000} mAh battery lasts for days off-grid.",
               "rugged | waterproof"),
        ],
        numbered=True,
    ),
    _s(
        "phone-accessories", "Phone Accessories", "Cases, chargers, cables and power banks.",
        "PAC", 3,
        "Gripwell | Chargewell | Voltix | Shieldcase | Novaxa",
        "Snap | Flow | Go | Max | Slim",
        "accessories | charging | usb-c | mobile",
        "everyday carry | travel days | keeping your phone safe | desks and nightstands",
        [
            _k("Phone Case", (9, 59), "Clear | Leather | Shockproof | MagSafe-Compatible",
               "Clear | Black | Navy | Sage Green | Tan Leather | Lavender",
               "Raised edges protect the screen and camera when laid flat."
               " | Tested to survive drops from {2-4} metres."
               " | It adds just {1-2} mm to the phone's thickness.",
               "case | protection"),
            _k("Power Bank", (19, 129), "Fast-Charging | Magnetic | Slim | Solar",
               "10,000 mAh | 20,000 mAh | 5,000 mAh | 26,800 mAh",
               "Charges a phone up to {2-6} times on a single charge."
               " | Delivers up to {20-100} W over USB-C."
               " | Small enough to fit in a jeans pocket.",
               "power-bank | portable"),
            _k("Wireless Charger", (15, 89), "3-in-1 | Fast | Foldable | Magnetic",
               "Black | White | Walnut | Grey Fabric",
               "Charges phone, watch and earbuds at the same time."
               " | Outputs up to {10-15} W for compatible phones."
               " | A soft LED shows charging status without lighting up the bedroom.",
               "wireless-charging"),
        ],
    ),
    _s(
        "laptops", "Laptops", "Ultrabooks, workstations and everyday notebooks.",
        "LAP", 4,
        "Corvan | Helix Computing | Stratos | Nimbus | Veridian | Quillon Works",
        "Aria | Folio | Studio | Creator | Flex | Pilot",
        "laptop | computer | ssd | usb-c",
        "hybrid work | students and travellers | creative professionals | long coding sessions",
        [
            _k("Laptop", (349, 1899), "Thin and Light | Business | Everyday | Convertible",
               '13", 8 GB RAM, 256 GB SSD | 14", 16 GB RAM, 512 GB SSD'
               ' | 15.6", 16 GB RAM, 1 TB SSD | 14", 32 GB RAM, 1 TB SSD',
               "The aluminium chassis weighs just 1.{1-6} kg."
               " | Battery life reaches up to {9-22} hours of video playback."
               " | A backlit keyboard makes long typing sessions comfortable."
               " | Its display covers {95-100}% of the sRGB colour space.",
               "ultrabook | backlit-keyboard"),
            _k("Gaming Laptop", (899, 2999), "RGB | High-Refresh | Performance",
               '15.6", 16 GB RAM, 1 TB SSD | 16", 32 GB RAM, 1 TB SSD | 17.3", 32 GB RAM, 2 TB SSD',
               "A {144-240} Hz display keeps fast games smooth."
               " | Vapour-chamber cooling holds clocks steady under load."
               " | The per-key RGB keyboard is fully programmable.",
               "gaming | rgb"),
            _k("Chromebook", (199, 549), "Student | Touchscreen | Convertible",
               '11.6", 4 GB RAM, 64 GB | 14", 8 GB RAM, 128 GB | 13.3", 8 GB RAM, 128 GB',
               "Boots in under {6-10} seconds."
               " | A spill-resistant keyboard survives classroom life."
               " | Updates install automatically in the background.",
               "students | budget"),
        ],
        numbered=True,
    ),
    _s(
        "tablets", "Tablets & E-Readers", "Tablets and e-readers for work, reading and play.",
        "TAB", 3,
        "Novaxa | Lumio | Slatewise | Orbis | Paperlight",
        "Tab | Pad | Canvas | Slate | Folio",
        "tablet | portable | reading",
        "reading in bed | sketching and note-taking | streaming on the sofa | long journeys",
        [
            _k("Tablet", (99, 1299), "Wi-Fi | LTE | Pro | Kids Edition",
               '8", 64 GB | 10.9", 128 GB | 11", 256 GB | 12.9", 512 GB',
               "The screen reaches {500-1000} nits, so it stays readable outdoors."
               " | It supports pen input with {2048-8192} levels of pressure."
               " | A single charge lasts up to {10-14} hours.",
               "stylus | streaming"),
            _k("E-Reader", (79, 349), "Glare-Free | Waterproof | Colour",
               '6", 16 GB | 7", 32 GB | 10.2", 32 GB',
               "A 300 ppi e-ink display reads like printed paper."
               " | One charge lasts up to {6-10} weeks of reading."
               " | Warm front light adjusts for night reading.",
               "e-ink | ebooks"),
        ],
        numbered=True,
    ),
    _s(
        "headphones", "Headphones & Earbuds", "Over-ear, on-ear and in-ear audio.",
        "HPH", 5,
        "Aurora | Sonique | Bassline | Echoform | Quietude | Halcyon Audio | Tonebird",
        "Studio | Air | Arc | Pulse | Tune",
        "audio | headphones | music",
        "commuting | focused work | late-night listening | long flights",
        [
            _k("Headphones", (49, 449),
               "Wireless Noise-Cancelling | Over-Ear | Bluetooth | Foldable", _COLOURS,
               "Up to {20-60} hours of playback on a single charge."
               " | Custom {30-50} mm drivers deliver a warm, detailed sound."
               " | Adaptive noise cancelling blocks out traffic and office chatter."
               " | Multipoint pairing switches between your laptop and phone automatically.",
               "noise-cancelling | bluetooth | wireless"),
            _k("Earbuds", (19, 299), "True Wireless | Noise-Cancelling | Sport | Open-Ear",
               _COLOURS,
               "The case holds {2-4} extra charges."
               " | An IPX{4-7} rating shrugs off sweat and rain."
               " | A {5-15}-minute quick charge adds {1-3} hours of listening."
               " | Three sizes of silicone tips give a secure fit.",
               "wireless | bluetooth | workout"),
            _k("Studio Headphones", (59, 399), "Closed-Back | Open-Back | Wired Reference",
               "Black | Silver | Black, 32 Ohm | Black, 250 Ohm",
               "A flat frequency response makes mixes translate to other speakers."
               " | The 3 m coiled cable is detachable and replaceable."
               " | Velour ear pads stay comfortable over {4-8}-hour sessions.",
               "hi-res | studio"),
        ],
        numbered=True,
    ),
    _s(
        "speakers", "Speakers & Audio", "Bluetooth speakers, smart speakers and turntables.",
        "SPK", 2,
        "Sonique | Bassline | Echoform | Tonebird | Loudhouse",
        "Boom | Wave | Orb | Stage | Mini",
        "audio | speaker | music | bluetooth",
        "beach days | house parties | background music while cooking | vinyl evenings",
        [
            _k("Bluetooth Speaker", (29, 299), "Portable | Waterproof | Rugged | 360°",
               _COLOURS,
               "Plays for up to {12-24} hours on a charge."
               " | It floats, and is rated IP67 against dust and water."
               " | Pair two for true stereo sound.",
               "portable | waterproof"),
            _k("Smart Speaker", (49, 349), "Voice-Controlled | Multi-Room | Compact",
               "Charcoal | Chalk | Sandstone | Blue",
               "Far-field microphones hear you across the room."
               " | Group it with other speakers for multi-room playback."
               " | A physical switch disconnects the microphones.",
               "smart-home | wifi"),
            _k("Turntable", (129, 699), "Belt-Drive | Bluetooth | Fully Automatic",
               "Walnut | Black | White",
               "A built-in phono preamp connects straight to powered speakers."
               " | It plays 33 and 45 rpm records."
               " | Ships with a pre-mounted cartridge.",
               "vinyl | hi-fi"),
        ],
        numbered=True,
    ),
    _s(
        "smartwatches", "Smartwatches & Wearables", "Smartwatches, fitness bands and GPS watches.",
        "WCH", 3,
        "Falconet | Vitalora | Orbis | Cadenza | Stride Labs",
        "Active | Run | Sense | Fit | Band",
        "wearable | fitness | health",
        "runners and cyclists | tracking sleep and recovery | everyday wellness | open-water swims",
        [
            _k("Smartwatch", (99, 799), "AMOLED | LTE | Titanium | Sport",
               "41 mm, Black | 45 mm, Silver | 42 mm, Rose Gold | 46 mm, Titanium",
               "Battery life reaches {2-14} days between charges."
               " | It is water-resistant to {30-100} metres."
               " | Continuous heart-rate and SpO2 tracking run around the clock.",
               "smartwatch | heart-rate"),
            _k("Fitness Tracker", (29, 149), "Slim | Waterproof | Colour-Screen",
               "Black | Lilac | Sage | Navy",
               "Tracks {20-60} workout types automatically."
               " | The battery lasts up to {7-14} days."
               " | Sleep stages are scored each morning.",
               "sleep-tracking | steps"),
            _k("GPS Watch", (149, 699), "Multisport | Solar | Trail | Dual-Band",
               "42 mm, Black | 47 mm, Slate | 51 mm, Titanium",
               "Dual-band GPS stays accurate under trees and tall buildings."
               " | Up to {20-60} hours of battery life in full GPS mode."
               " | Downloadable maps guide you back to the trailhead.",
               "gps | running"),
        ],
        numbered=True,
    ),
    _s(
        "cameras", "Cameras & Photo", "Mirrorless, action and instant cameras and lenses.",
        "CAM", 2,
        "Optera | Kairo | Framecraft | Apertura | Luminar Vale",
        "Vision | Snap | Shot | Go | Frame",
        "camera | photography",
        "travel photography | vlogging | weekend adventures | portrait work",
        [
            _k("Mirrorless Camera", (499, 3499), "Full-Frame | APS-C | Compact | Vlogging",
               "Body Only | with 24-70 mm Kit Lens | with 18-55 mm Kit Lens | Silver, Body Only",
               "The {20-61} MP sensor handles high ISO with little noise."
               " | In-body stabilisation gives up to {5-8} stops of shake reduction."
               " | Eye-tracking autofocus locks onto people and pets."
               " | It records 4K video at up to {30-120} fps.",
               "mirrorless | 4k"),
            _k("Action Camera", (79, 499), "Waterproof | 5K | Stabilised",
               "Standard | Adventure Bundle | with Dive Housing",
               "It is waterproof to {10-33} metres without a case."
               " | Horizon levelling keeps footage straight on bumpy rides."
               " | A front screen makes framing selfies easy.",
               "action-camera | waterproof"),
            _k("Camera Lens", (149, 1999), "Prime | Zoom | Macro | Wide-Angle",
               "35 mm f/1.8 | 50 mm f/1.4 | 24-70 mm f/2.8 | 70-200 mm f/4 | 16 mm f/2.8",
               "Weather sealing keeps dust and drizzle out."
               " | {9-11} rounded aperture blades render smooth bokeh."
               " | A quiet stepping motor suits video.",
               "lens"),
        ],
        numbered=True,
    ),
    _s(
        "televisions", "TVs & Home Theatre", "Smart TVs, soundbars and projectors.",
        "TVS", 3,
        "Visionex | Lumora | Panoview | Cinevo Home | Brightwave",
        "Vista | Cine | Frame | Aura | Prism",
        "tv | home-theatre | streaming",
        "movie nights | sports fans | gaming in 4K | small living rooms",
        [
            _k("Smart TV", (199, 3999), "4K UHD | QLED | OLED | Mini-LED",
               '43" | 50" | 55" | 65" | 75" | 85"',
               "Local dimming across {32-500} zones deepens blacks."
               " | It has {3-4} HDMI 2.1 ports for consoles and streaming boxes."
               " | A 120 Hz panel keeps fast action crisp.",
               "4k | hdr | smart-tv"),
            _k("Soundbar", (99, 999), "Dolby Atmos | Wireless Subwoofer | Compact",
               "2.1 Channel | 3.1 Channel | 5.1.2 Channel | Black | White",
               "Upward-firing drivers bounce sound off the ceiling."
               " | Dialogue enhancement makes voices clear at low volume."
               " | It connects to the TV with a single HDMI eARC cable.",
               "soundbar | dolby-atmos"),
            _k("Projector", (149, 2499), "4K | Short-Throw | Portable | Laser",
               "White | Grey | 1080p | 4K",
               "Projects an image up to {100-150} inches across."
               " | It reaches {500-3000} ANSI lumens for daytime viewing."
               " | Auto keystone squares the picture in seconds.",
               "projector"),
        ],
        numbered=True,
    ),
    _s(
        "gaming", "Video Games & Consoles", "Consoles, controllers and gaming accessories.",
        "GAM", 3,
        "Pixelforge | Questor | Arcadia Gear | Levelup | Nexplay",
        "Pro | Elite | Core | Neo | Arc",
        "gaming | esports",
        "competitive play | couch co-op | long raids | retro gaming",
        [
            _k("Game Controller", (24, 199), "Wireless | Pro | Ergonomic | Retro",
               _COLOURS,
               "Remappable back buttons give you {2-4} extra inputs."
               " | Hall-effect sticks resist drift."
               " | The battery lasts around {20-40} hours between charges.",
               "controller | wireless"),
            _k("Gaming Headset", (29, 299), "Wireless | Surround | Lightweight | RGB",
               "Black | White | Camo | Red",
               "A detachable boom mic keeps your voice crisp."
               " | Memory-foam cushions stay comfortable for marathon sessions."
               " | Latency stays under {10-30} ms over the 2.4 GHz dongle.",
               "headset | microphone"),
            _k("Handheld Console", (149, 699), "Retro | OLED | PC-Compatible",
               "64 GB | 256 GB | 512 GB | 1 TB",
               "A {7-8}-inch screen makes small text easy to read."
               " | Plays for {3-8} hours on a charge."
               " | Docks to a TV for big-screen play.",
               "console | portable"),
            _k("Gaming Chair", (129, 599), "Ergonomic | Reclining | Fabric",
               "Black | Black/Red | Grey | White",
               "Reclines to {135-165} degrees for breaks between matches."
               " | 4D armrests adjust up, down, in and out."
               " | Supports up to {120-150} kg.",
               "chair | ergonomic"),
        ],
        numbered=True,
    ),
    _s(
        "computer-accessories", "Computer Accessories", "Keyboards, mice, monitors and storage.",
        "ACC", 4,
        "Keyture | Clickwell | Datavault | Portline | Stratos",
        "Flow | Type | Dock | Vault | Glide",
        "accessories | computer | productivity",
        "tidy desks | remote workers | creators | home offices",
        [
            _k("Mechanical Keyboard", (39, 249), "Wireless | Low-Profile | Hot-Swappable | TKL",
               "Brown Switches | Red Switches | Blue Switches | White, Brown Switches",
               "Hot-swappable switches let you customise the feel."
               " | Connects to up to 3 devices over Bluetooth."
               " | Double-shot PBT keycaps will never fade.",
               "keyboard | mechanical"),
            _k("Wireless Mouse", (15, 149), "Ergonomic | Silent | Vertical | Gaming",
               "Graphite | Pale Grey | Rose | Black",
               "The sensor tracks at up to {4000-26000} DPI on almost any surface."
               " | A single AA battery lasts up to {12-24} months."
               " | Silent clicks keep the office quiet.",
               "mouse | wireless | ergonomic"),
            _k("Monitor", (119, 1299), "4K | Ultrawide | USB-C | High-Refresh",
               '24-inch | 27-inch | 32-inch | 34-inch Curved',
               "One USB-C cable carries power, video and data."
               " | It refreshes at up to {75-240} Hz."
               " | The stand adjusts in height, tilt and swivel.",
               "monitor | usb-c"),
            _k("Portable SSD", (49, 399), "Rugged | Compact | High-Speed",
               "500 GB | 1 TB | 2 TB | 4 TB",
               "Transfer speeds reach {500-2000} MB/s."
               " | Survives drops of up to {2-3} metres."
               " | Hardware encryption keeps files private.",
               "storage | ssd"),
        ],
        numbered=True,
    ),
    _s(
        "kitchen-appliances", "Kitchen Appliances",
        "Coffee machines, blenders, air fryers and more.",
        "KIT", 4,
        "Brewhaus | Culina | Whirlstone | Kettleworks | Maison Chef | Zestly",
        "Classic | Barista | Compact | Chef | Prima",
        "kitchen | appliance | cooking",
        "weekday breakfasts | home baristas | busy families | small kitchens",
        [
            _k("Espresso Machine", (149, 899), "Semi-Automatic | Bean-to-Cup | Dual Boiler",
               "Brushed Steel | Matte Black | Cream | Red",
               "A {15-19}-bar pump pulls rich, crema-topped shots."
               " | The steam wand textures milk for latte art."
               " | It heats up in under {2-5} minutes.",
               "coffee | espresso"),
            _k("Air Fryer", (49, 249), "Digital | Dual-Basket | Family-Size",
               "4 L, Black | 5.5 L, Black | 9 L, Grey | 5.5 L, Cream",
               "{6-12} presets take the guesswork out of weeknight dinners."
               " | Uses up to {70-85}% less oil than deep frying."
               " | The non-stick basket is dishwasher-safe.",
               "air-fryer | dishwasher-safe"),
            _k("Blender", (39, 499), "High-Speed | Personal | Vacuum",
               "1.5 L, Black | 2 L, Steel | 0.6 L, White",
               "A {1000-1800} W motor handles ice and frozen fruit with ease."
               " | Hardened steel blades never need sharpening."
               " | A self-clean cycle rinses the jug in under a minute.",
               "smoothies"),
            _k("Electric Kettle", (19, 149), "Cordless | Temperature-Control | Gooseneck",
               "1.7 L, Brushed Steel | 1 L, Matte Black | 1.7 L, Cream | 0.9 L, White",
               "Boils a full jug in about {3-4} minutes."
               " | Keep-warm holds your chosen temperature for {30-60} minutes."
               " | Boil-dry protection switches it off automatically.",
               "tea | kettle"),
        ],
    ),
    _s(
        "cookware", "Cookware & Tableware", "Pans, pots, knives and dinnerware.",
        "CKW", 3,
        "Ironhearth | Culina | Copperline | Maison Chef | Fielder & Co",
        "Heritage | Everyday | Signature | Essentials | Atelier",
        "cookware | kitchen",
        "everyday cooking | slow Sunday roasts | weeknight stir-fries | hosting dinners",
        [
            _k("Frying Pan", (19, 149), "Cast Iron | Non-Stick | Stainless Steel | Carbon Steel",
               "20 cm | 24 cm | 28 cm | 30 cm",
               "It works on gas, electric and induction hobs."
               " | Oven-safe up to {200-260} °C."
               " | A riveted handle stays cool on the hob.",
               "induction-ready | oven-safe"),
            _k("Dutch Oven", (49, 399), "Enamelled Cast Iron | Round | Oval",
               "4.2 L, Cherry | 5.3 L, Sea Blue | 6.7 L, Charcoal | 3.3 L, Cream",
               "Heavy cast iron holds heat for slow braises."
               " | The enamel interior needs no seasoning."
               " | Oven-safe up to {250-260} °C.",
               "cast-iron | oven-safe"),
            _k("Chef's Knife", (25, 249), "Damascus Steel | German Steel | Japanese",
               '6" | 8" | 10" | 3-Piece Set',
               "The blade is hand-sharpened to a {12-16}° edge."
               " | A full tang gives balance and control."
               " | Hardened to {56-62} HRC for lasting sharpness.",
               "knives"),
            _k("Dinnerware Set", (29, 249), "Stoneware | Porcelain | Hand-Glazed",
               "12-Piece, White | 16-Piece, Speckled Grey | 12-Piece, Sage | 18-Piece, Sand",
               "Microwave- and dishwasher-safe."
               " | Each piece is glazed by hand, so no two are identical."
               " | Serves {4-6} people.",
               "tableware | dishwasher-safe"),
        ],
    ),
    _s(
        "furniture", "Furniture", "Sofas, desks, chairs and storage.",
        "FRN", 3,
        "Nordhem | Oakridge Living | Loftline | Casa Verde | Woodwright",
        "Linnea | Aspen | Harbor | Mesa | Fjord",
        "furniture | home",
        "compact apartments | home offices | family living rooms | reading corners",
        [
            _k("Standing Desk", (199, 899), "Electric | Dual-Motor | Solid Oak | Compact",
               "120 x 60 cm, White | 140 x 70 cm, Walnut | 160 x 80 cm, Oak | 120 x 60 cm, Black",
               "Dual motors adjust the height from {60-72} to {118-128} cm."
               " | Four memory presets recall your favourite positions."
               " | Supports up to {100-160} kg.",
               "home-office | height-adjustable"),
            _k("Office Chair", (99, 799), "Ergonomic | Mesh | High-Back",
               "Black | Grey | Black Mesh | Oatmeal Fabric",
               "Adjustable lumbar support follows your spine."
               " | Breathable mesh keeps you cool through long days."
               " | Rated for {8-10} hours of daily use.",
               "home-office | ergonomic"),
            _k("Sofa", (399, 1999), "Mid-Century | Modular | Sleeper | Velvet",
               "2-Seater, Olive Velvet | 3-Seater, Charcoal | Corner, Oatmeal | 3-Seater, Rust",
               "Seat cushions use high-resilience foam wrapped in fibre."
               " | Solid hardwood frame with a {10-15}-year guarantee."
               " | Covers are removable for cleaning.",
               "living-room"),
            _k("Bookshelf", (49, 449), "Solid Oak | Industrial | Ladder | Modular",
               "Natural Oak | Walnut | White | Black Steel",
               "Each shelf holds up to {20-40} kg."
               " | It assembles in about {20-60} minutes with the included tools."
               " | Made from FSC-certified timber.",
               "storage | solid-wood"),
        ],
    ),
    _s(
        "bedding", "Bedding & Bath", "Sheets, duvets, pillows and towels.",
        "BED", 3,
        "Dreamloom | Softhaven | Linenly | Cloudnest | Duskfeather",
        "Cloud | Classic | Hotel | Pure | Serene",
        "bedding | bath | home",
        "restful nights | hot sleepers | guest rooms | a spa-like bathroom",
        [
            _k("Duvet Cover Set", (39, 249), "Organic Cotton | Linen | Percale | Sateen",
               "Double, White | Queen, Stone | King, Sage | Queen, Dusty Pink",
               "Woven at a {300-600} thread count for a smooth, breathable feel."
               " | Machine-washable at {40-60} °C."
               " | OEKO-TEX certified, free from harmful substances.",
               "cotton | machine-washable"),
            _k("Pillow", (19, 129), "Memory Foam | Down-Alternative | Cooling",
               "Standard | Queen | King | 2-Pack",
               "Adjustable fill lets you choose the loft."
               " | Suits side, back and front sleepers."
               " | The cover is removable and washable.",
               "hypoallergenic"),
            _k("Bath Towel Set", (24, 149), "Turkish Cotton | Quick-Dry | Waffle",
               "4-Piece, White | 6-Piece, Stone | 4-Piece, Sage | 6-Piece, Navy",
               "Each towel weighs {500-700} g/m² for extra absorbency."
               " | Gets softer with every wash."
               " | Made from long-staple cotton.",
               "towels | cotton"),
            _k("Mattress Topper", (59, 499), "Memory Foam | Cooling Gel | Wool",
               "Single | Double | Queen | King",
               "Adds {5-10} cm of pressure-relieving comfort."
               " | An elastic skirt keeps it from sliding."
               " | Ships rolled and expands within {24-48} hours.",
               "sleep"),
        ],
    ),
    _s(
        "home-decor", "Home Decor", "Rugs, mirrors, vases, candles and wall art.",
        "DEC", 3,
        "Casa Verde | Loftline | Hearth & Hue | Atelier Nine | Nordhem",
        "Terra | Lumen | Dune | Haven | Muse",
        "decor | home | gift",
        "cosy living rooms | gallery walls | housewarming gifts | entryways",
        [
            _k("Area Rug", (49, 599), "Handwoven | Jute | Washable | Berber-Style",
               "120 x 170 cm, Ivory | 160 x 230 cm, Terracotta | 200 x 300 cm, Navy"
               " | 80 x 150 cm, Ochre",
               "Hand-knotted by artisans over {3-8} weeks."
               " | A low pile makes it easy to vacuum."
               " | Machine-washable for easy care.",
               "rug | handmade"),
            _k("Wall Mirror", (39, 349), "Round | Arched | Brass-Framed | Oversized",
               "60 cm | 80 cm | 100 cm | 60 x 160 cm",
               "Arrives with wall fixings pre-attached."
               " | Bevelled glass adds a subtle sparkle."
               " | The frame is finished in brushed metal.",
               "mirror"),
            _k("Scented Candle", (9, 59), "Soy Wax | Three-Wick | Hand-Poured",
               "Fig & Cedar | Sea Salt & Sage | Amber & Vanilla | Fresh Linen",
               "The candle burns for roughly {30-80} hours."
               " | Cotton wicks burn cleanly, without soot."
               " | The glass vessel makes a planter once the wax is gone.",
               "candle | soy"),
            _k("Ceramic Vase", (15, 129), "Hand-Glazed | Minimalist | Stoneware",
               "Small, Ivory | Medium, Speckled | Large, Terracotta | Medium, Sage",
               "Thrown by hand, so no two are exactly alike."
               " | Watertight for fresh flowers."
               " | Stands {15-45} cm tall.",
               "vase | handmade"),
        ],
    ),
    _s(
        "lighting", "Lighting", "Lamps, smart bulbs and outdoor lights.",
        "LGT", 2,
        "Lumora | Glowhaus | Brightwave | Lanterna | Luxa",
        "Halo | Beam | Glow | Arc | Orb",
        "lighting | led",
        "reading nooks | home offices | garden parties | bedside tables",
        [
            _k("Floor Lamp", (49, 349), "Arc | Dimmable | Tripod | Rattan",
               "Brass | Matte Black | White | Natural Wood",
               "A foot switch dims through {3-5} brightness levels."
               " | Stands {150-190} cm tall."
               " | Takes a standard E27 bulb.",
               "lamp | dimmable"),
            _k("Smart Bulb", (9, 69), "Colour | Tunable White | Filament",
               "E27, 1-Pack | E27, 4-Pack | GU10, 2-Pack | E14, 2-Pack",
               "It draws just {5-12} W while giving {450-1600} lumens."
               " | Colour temperature adjusts from 2700 K to 6500 K."
               " | Works with popular voice assistants.",
               "smart-home | energy-saving"),
            _k("String Lights", (12, 79), "Solar | Outdoor | Warm White | Festoon",
               "10 m | 15 m | 20 m | 48 ft",
               "Weatherproof bulbs survive summer storms."
               " | A built-in timer switches them on at dusk."
               " | Rated for {15000-25000} hours of use.",
               "outdoor | solar"),
        ],
    ),
    _s(
        "running-shoes", "Running Shoes", "Road, trail and racing shoes.",
        "RUN", 4,
        "Stridewell | Trailfinch | Velocita | Pacer & Co | Cloudfoot | Sprintline",
        "Glide | Cadenza | Ridge | Rush | Float | Summit",
        "running | shoes | sports",
        "daily training | marathon day | muddy trails | easy recovery runs",
        [
            _k("Running Shoes", (69, 199), "Lightweight | Cushioned | Stability | Neutral",
               "Men's US 9 | Men's US 10 | Men's US 11 | Women's US 7 | Women's US 8"
               " | Women's US 9",
               "A {6-10} mm heel-to-toe drop suits a natural stride."
               " | Each shoe weighs about {190-290} g."
               " | The foam midsole returns energy with every step.",
               "road | breathable"),
            _k("Trail Running Shoes", (89, 219), "Waterproof | Grippy | Rock-Plated",
               "Men's US 9 | Men's US 10.5 | Men's US 12 | Women's US 7.5 | Women's US 8.5",
               "{3-5} mm lugs grip on mud and loose rock."
               " | A rock plate shields your feet on technical ground."
               " | A gusseted tongue keeps out grit.",
               "trail | waterproof"),
            _k("Racing Shoes", (149, 249), "Carbon-Plated | Ultralight",
               "Men's US 9 | Men's US 10 | Women's US 7 | Women's US 8",
               "A full-length carbon plate adds snap to every stride."
               " | Weighs under {170-210} g."
               " | Built for race day and fast tempo sessions.",
               "marathon | racing"),
        ],
    ),
    _s(
        "mens-clothing", "Men's Clothing", "Shirts, jeans, jackets and basics for men.",
        "MCL", 4,
        "Harbor & Pine | Northfold | Urbane | Fieldcraft | Denimworks",
        "Essential | Heritage | Everyday | Utility | Weekend",
        "menswear | clothing",
        "the office | weekends away | layering in autumn | everyday wear",
        [
            _k("Oxford Shirt", (29, 99), "Organic Cotton | Slim-Fit | Button-Down",
               "S, White | M, Light Blue | L, Pink Stripe | XL, White",
               "Cut from {95-100}% organic cotton."
               " | Pre-washed so it keeps its shape."
               " | A button-down collar holds its line under a jumper.",
               "cotton | workwear"),
            _k("Jeans", (39, 179), "Slim | Straight | Selvedge | Stretch",
               "30W 32L, Indigo | 32W 32L, Indigo | 34W 34L, Black | 36W 32L, Mid Wash",
               "Woven from {12-14} oz denim that fades with wear."
               " | A touch of elastane gives it {1-2}% stretch."
               " | Reinforced pockets stand up to daily use.",
               "denim | casual"),
            _k("Rain Jacket", (69, 299), "Waterproof | Packable | Insulated",
               "S, Navy | M, Olive | L, Black | XL, Rust",
               "Taped seams and a {10000-20000} mm membrane keep the rain out."
               " | Packs into its own chest pocket."
               " | Pit zips vent heat on the move.",
               "outerwear | waterproof"),
            _k("Merino Sweater", (59, 199), "Crew-Neck | Fine-Knit | Zip-Neck",
               "S, Charcoal | M, Navy | L, Oatmeal | XL, Forest Green",
               "Merino regulates temperature and resists odours."
               " | Knitted from {17-19} micron wool for softness."
               " | Hand-wash or machine-wash on a wool cycle.",
               "knitwear | wool"),
        ],
    ),
    _s(
        "womens-clothing", "Women's Clothing", "Dresses, tops, knitwear and outerwear for women.",
        "WCL", 4,
        "Maison Liora | Juniper Row | Aveline | Northfold | Seraphelle",
        "Atelier | Everyday | Weekend | Studio | Riviera",
        "womenswear | clothing",
        "summer weekends | the office | chilly mornings | travel capsules",
        [
            _k("Wrap Dress", (39, 199), "Linen | Floral | Midi | Satin",
               "XS, Black | S, Ivory | M, Terracotta | L, Sage | S, Navy",
               "Made from breathable {60-100}% linen."
               " | An adjustable tie waist flatters every shape."
               " | Features deep side pockets.",
               "dress | summer"),
            _k("Wool Coat", (129, 399), "Tailored | Oversized | Double-Breasted",
               "XS, Camel | S, Charcoal | M, Black | L, Oatmeal",
               "A fully lined body adds warmth without bulk."
               " | Blended from {60-80}% recycled wool."
               " | Falls just below the knee.",
               "outerwear | wool"),
            _k("Linen Blouse", (29, 119), "Relaxed | Cropped | Button-Through",
               "XS, White | S, Sky Blue | M, Stone | L, Blush",
               "Garment-dyed for a soft, lived-in feel."
               " | Machine-washable at {30-40} °C."
               " | Mother-of-pearl buttons finish the placket.",
               "linen | summer"),
            _k("Leggings", (24, 99), "High-Rise | Sculpting | Thermal",
               "XS, Black | S, Black | M, Navy | L, Plum",
               "Squat-proof fabric with 4-way stretch."
               " | A hidden waistband pocket holds keys and cards."
               " | Made from {60-80}% recycled nylon.",
               "activewear"),
        ],
    ),
    _s(
        "bags-luggage", "Bags & Luggage", "Backpacks, suitcases and travel accessories.",
        "BAG", 3,
        "Roamwell | Carryall | Waymark & Co | Jetpath | Nomadi",
        "Voyager | Transit | Metro | Summit | Weekender",
        "travel | bags",
        "weekend getaways | business trips | daily commutes | backpacking",
        [
            _k("Carry-On Suitcase", (89, 599), "Hard-Shell | Expandable | Aluminium",
               "Black | Olive | Sand | Navy | Silver",
               "Four spinner wheels glide through airport terminals."
               " | It weighs only {2-3}.{1-9} kg empty."
               " | A TSA-approved lock secures your belongings.",
               "luggage | carry-on"),
            _k("Laptop Backpack", (39, 249), "Water-Resistant | Anti-Theft | Roll-Top",
               "20 L, Black | 25 L, Grey | 30 L, Olive | 20 L, Navy",
               "A padded sleeve fits laptops up to {14-17} inches."
               " | Hidden pockets keep passports and cards safe."
               " | Made from {50-100}% recycled polyester.",
               "laptop | backpack"),
            _k("Duffel Bag", (29, 199), "Packable | Leather | Waterproof",
               "40 L, Black | 55 L, Olive | 40 L, Tan | 70 L, Navy",
               "Converts into a backpack with hideaway straps."
               " | A separate shoe compartment keeps clothes clean."
               " | Folds into its own pocket when not in use.",
               "weekender"),
        ],
    ),
    _s(
        "jewellery", "Jewellery & Watches", "Rings, necklaces, earrings and watches.",
        "JWL", 2,
        "Aurelle | Solenne | Goldcrest | Marlowe & Finch | Lunaria",
        "Lune | Etoile | Bloom | Signet | Classic",
        "jewellery | gift",
        "anniversaries | everyday elegance | birthday gifts | layering",
        [
            _k("Pendant Necklace", (25, 499), "Sterling Silver | 14k Gold | Pearl",
               '16" Chain | 18" Chain | 20" Chain',
               "Hallmarked and nickel-free for sensitive skin."
               " | Arrives in a gift box ready to give."
               " | The chain is adjustable by {2-5} cm.",
               "necklace"),
            _k("Stud Earrings", (19, 399), "Sterling Silver | Gold Vermeil | Diamond",
               "Silver | Gold | Rose Gold",
               "Secure butterfly backs keep them in place."
               " | Hypoallergenic posts suit sensitive ears."
               " | Each piece is polished by hand.",
               "earrings"),
            _k("Automatic Watch", (199, 1499), "Dress | Diver | Field",
               "38 mm, Steel | 40 mm, Black Dial | 41 mm, Green Dial | 39 mm, Leather Strap",
               "The movement runs for {38-80} hours on a full wind."
               " | Sapphire crystal resists scratches."
               " | Water-resistant to {50-200} metres.",
               "watch | automatic"),
        ],
    ),
    _s(
        "skincare", "Skincare", "Serums, moisturisers, cleansers and sun care.",
        "SKN", 4,
        "Lumera | Dewlab | Purely Botanica | Veloura | Skinfolk | Calmera",
        "Hydra | Glow | Pure | Daily | Calm | Renew",
        "skincare | beauty | cruelty-free",
        "dry skin | morning routines | sensitive skin | a brighter complexion",
        [
            _k("Face Serum", (12, 89), "Vitamin C | Hyaluronic Acid | Niacinamide | Retinol",
               "15 ml | 30 ml | 50 ml",
               "Formulated with {2-15}% of the active ingredient for visible results."
               " | Absorbs in seconds without a sticky finish."
               " | Comes in a recyclable glass bottle.",
               "serum | vegan"),
            _k("Moisturiser", (9, 79), "Fragrance-Free | Ceramide | Oil-Free | Rich",
               "50 ml | 75 ml | 100 ml",
               "Ceramides help restore the skin barrier overnight."
               " | Hydrates for up to {24-72} hours."
               " | Dermatologist-tested and suitable for sensitive skin.",
               "moisturiser | sensitive-skin"),
            _k("Sunscreen", (8, 49), "SPF 30 | SPF 50 | Mineral | Tinted",
               "50 ml | 100 ml | 200 ml",
               "Broad-spectrum protection against UVA and UVB."
               " | Water-resistant for {40-80} minutes."
               " | Leaves no white cast.",
               "spf | sun-care"),
            _k("Gentle Cleanser", (6, 39), "Foaming | Gel | Cream | Oil",
               "150 ml | 200 ml | 400 ml",
               "Removes make-up and SPF without stripping."
               " | pH-balanced at 5.5."
               " | Free from sulphates and fragrance.",
               "cleanser | fragrance-free"),
        ],
    ),
    _s(
        "haircare", "Hair Care", "Shampoos, conditioners, styling and hair tools.",
        "HAR", 2,
        "Tressique | Maneworks | Silken | Curlcraft | Lumera",
        "Smooth | Volume | Repair | Curl | Shine",
        "haircare | beauty",
        "curly hair | frizz control | quick morning routines | colour-treated hair",
        [
            _k("Shampoo", (6, 39), "Sulphate-Free | Argan | Clarifying | Moisturising",
               "250 ml | 500 ml | 1 L | Travel Size",
               "Enriched with argan and coconut oils."
               " | Safe for colour-treated hair."
               " | The bottle is made from {50-100}% recycled plastic.",
               "sulphate-free"),
            _k("Hair Dryer", (39, 299), "Ionic | Compact | Diffuser",
               "Black | Rose Gold | White",
               "Ionic technology dries hair up to {30-50}% faster."
               " | {3-4} heat and 2 speed settings, plus a cool shot."
               " | Includes a concentrator and diffuser.",
               "styling | tools"),
            _k("Hair Straightener", (29, 199), "Ceramic | Titanium | Cordless",
               "Black | White | Rose Gold",
               "Heat settings range from {120-150} to {200-230} °C."
               " | Floating plates glide without snagging."
               " | Switches off automatically after {30-60} minutes.",
               "styling | tools"),
        ],
    ),
    _s(
        "fragrance", "Fragrance", "Perfumes, colognes and home scents.",
        "FRG", 2,
        "Maison Ombre | Aurelle | Noctis | Verbena & Co | Solenne",
        "Nuit | Azur | Bois | Fleur | Ambre",
        "fragrance | gift",
        "evenings out | everyday wear | thoughtful gifts | summer days",
        [
            _k("Eau de Parfum", (39, 249), "Woody | Floral | Amber | Citrus",
               "30 ml | 50 ml | 100 ml | Gift Set",
               "Top notes of bergamot open onto a heart of {2-4} florals."
               " | It lasts up to {6-12} hours on skin."
               " | The refillable bottle cuts down on waste.",
               "perfume | long-lasting"),
            _k("Cologne", (29, 149), "Fresh | Aromatic | Spiced",
               "50 ml | 100 ml | 150 ml",
               "Notes of vetiver, cedar and black pepper."
               " | Blended in small batches."
               " | A crisp scent that suits the office.",
               "cologne"),
            _k("Reed Diffuser", (19, 79), "Fig | Linen | Sandalwood | Citrus",
               "100 ml | 200 ml | 500 ml",
               "Scents a room for up to {8-16} weeks."
               " | Flip the reeds weekly for a stronger scent."
               " | Alcohol-free and kind to pets.",
               "home-fragrance"),
        ],
    ),
    _s(
        "health-supplements", "Health & Supplements", "Vitamins, protein and everyday wellness.",
        "VIT", 3,
        "Vitalora | Nutriva | Greenfield Labs | Corewise | Purely Botanica",
        "Daily | Active | Pure | Complete | Balance",
        "health | supplements",
        "active lifestyles | the winter months | post-workout recovery | plant-based diets",
        [
            _k("Whey Protein", (24, 89), "Chocolate | Vanilla | Unflavoured | Salted Caramel",
               "500 g | 1 kg | 2 kg | 30 Servings",
               "Each serving provides {20-30} g of protein."
               " | Mixes smoothly with water or milk."
               " | Third-party tested for banned substances.",
               "protein | fitness"),
            _k("Multivitamin", (7, 39), "Vegan | Women's | Men's | Gummy",
               "60 Tablets | 90 Tablets | 120 Gummies",
               "One tablet covers {20-25} essential nutrients."
               " | One bottle lasts {60-120} days."
               " | Free from gluten, dairy and artificial colours.",
               "vitamins | vegan"),
            _k("Omega-3 Capsules", (12, 49), "High-Strength | Algae-Based | Lemon",
               "60 Capsules | 90 Capsules | 120 Capsules",
               "Each capsule provides {500-1000} mg of EPA and DHA."
               " | Molecularly distilled for purity."
               " | Lemon flavour means no fishy aftertaste.",
               "omega-3"),
        ],
    ),
    _s(
        "toys", "Toys & Games", "Building sets, board games, puzzles and plush.",
        "TOY", 4,
        "Brickle | Wondertoy | Puzzlegrove | Playnest | Kitekid | Tinker & Tot",
        "Adventure | Explorer | Junior | Classic | Cosmos",
        "toys | kids | gift",
        "rainy afternoons | family game nights | curious young minds | birthday surprises",
        [
            _k("Building Set", (14, 199), "Space | City | Castle | Robotics",
               "Ages 6+ | Ages 8+ | Ages 10+ | Ages 12+",
               "Includes {120-1500} pieces and illustrated instructions."
               " | Compatible with other major brick systems."
               " | Encourages problem-solving and creativity.",
               "building | stem"),
            _k("Board Game", (15, 79), "Strategy | Co-operative | Family | Party",
               "2-4 Players | 2-6 Players | 3-8 Players | 1-4 Players",
               "Games take about {20-90} minutes."
               " | Easy to learn in {5-15} minutes, hard to master."
               " | Includes a solo mode for quiet evenings.",
               "board-games | family"),
            _k("Jigsaw Puzzle", (9, 39), "Landscape | Illustrated | Wooden",
               "500 Pieces | 1000 Pieces | 1500 Pieces | 300 Pieces",
               "Thick, matt-finish pieces reduce glare."
               " | Finished size: {48-84} x {34-60} cm."
               " | A poster of the image is included.",
               "puzzle"),
            _k("Plush Toy", (7, 49), "Cuddly | Weighted | Glow-in-the-Dark",
               "Fox | Bear | Dinosaur | Bunny | Whale",
               "Stands {20-45} cm tall."
               " | Surface-washable and safety-tested for all ages."
               " | Stuffed with recycled fibre.",
               "plush | soft-toy"),
        ],
    ),
    _s(
        "baby", "Baby & Kids", "Strollers, car seats, nursery and feeding.",
        "BBY", 2,
        "Little Nest | Cuddlebug | Babybloom | Safestep | Tinker & Tot",
        "Cosy | Go | Dream | Snug | Grow",
        "baby | nursery",
        "new parents | city walks | naptime | growing families",
        [
            _k("Stroller", (149, 799), "Lightweight | Travel | All-Terrain | Double",
               "Grey | Black | Oatmeal | Navy",
               "It folds one-handed in {2-4} seconds."
               " | All-wheel suspension smooths out cobbles."
               " | Fits in an airline overhead bin.",
               "stroller | travel"),
            _k("Car Seat", (79, 449), "Convertible | Rotating | Infant",
               "Grey | Black | Navy",
               "Tested to the latest i-Size safety standards."
               " | Grows with your child from birth to about 4 years."
               " | Rotates 360° for easy loading.",
               "car-seat | safety"),
            _k("Baby Monitor", (39, 299), "Video | Smart | Audio",
               '2.8" Screen | 5" Screen | App-Only',
               "Night vision shows a clear picture in total darkness."
               " | Range reaches up to {250-300} metres."
               " | Alerts you to crying and room temperature changes.",
               "monitor | safety"),
            _k("Swaddle Set", (12, 49), "Organic Cotton | Muslin | Bamboo",
               "3-Pack, Neutral | 3-Pack, Stars | 2-Pack, Sage",
               "Soft muslin gets softer with every wash."
               " | Each swaddle measures {110-120} x {110-120} cm."
               " | Free from harmful dyes.",
               "newborn | organic"),
        ],
    ),
    _s(
        "books", "Books", "Fiction, non-fiction, cookbooks and children's books.",
        "BKS", 4,
        "Lanternfield Press | Quillstone Books | Harrow & Vale | Bluefeather | Inkwell House",
        "The Silent | Beyond the | A Year in the | The Last | Notes from the | Letters to the",
        "books | reading",
        "rainy weekends | book clubs | curious readers | bedtime stories",
        [
            _k("Novel", (9, 34), "A Mystery Novel | A Fantasy Epic | A Literary Novel | A Thriller",
               "Hardcover | Paperback | Large Print",
               "Runs to {280-640} pages."
               " | Shortlisted for {1-3} literary awards."
               " | The author's debut became a word-of-mouth favourite.",
               "fiction"),
            _k("Cookbook", (14, 49),
               "A Cookbook for Every Season | A Plant-Based Cookbook | A Baking Book",
               "Hardcover | Spiral-Bound",
               "Features {80-150} recipes with step-by-step photos."
               " | Every recipe uses ingredients from a regular supermarket."
               " | Includes a chapter on weekday meals under {20-30} minutes.",
               "cooking | non-fiction"),
            _k("Children's Book", (5, 24), "A Picture Book | A Bedtime Story | An Early Reader",
               "Hardcover | Board Book | Paperback",
               "Includes {20-60} full-colour illustrations."
               " | Perfect for reading aloud to ages {3-7}."
               " | Printed on sturdy, wipe-clean pages.",
               "kids | picture-book"),
            _k("Field Guide", (12, 39), "A Field Guide | A Walker's Companion | A Natural History",
               "Paperback | Pocket Edition | Hardcover",
               "Covers more than {200-600} species."
               " | Maps and photographs on every spread."
               " | Sized to fit a jacket pocket.",
               "nature | non-fiction"),
        ],
    ),
    _s(
        "garden", "Garden & Outdoor", "Garden tools, planters, grills and outdoor furniture.",
        "GRD", 3,
        "Greenfield | Verdant | Yardsmith | Fernwood | Sunpatch",
        "Terra | Bloom | Harvest | Patio | Meadow",
        "garden | outdoor",
        "small balconies | summer barbecues | vegetable patches | weekend yard work",
        [
            _k("Cordless Lawn Mower", (179, 899), "Brushless | Self-Propelled | Mulching",
               "33 cm Deck | 38 cm Deck | 46 cm Deck",
               "The {36-60} V battery mows up to {300-800} m² per charge."
               " | Cutting height adjusts across {5-7} positions."
               " | It folds flat for winter storage.",
               "lawn | cordless"),
            _k("Raised Planter", (29, 249), "Galvanised | Cedar | Self-Watering",
               "Small | Medium | Large | 2-Pack",
               "A built-in reservoir waters plants for up to {7-14} days."
               " | Powder-coated steel resists rust for years."
               " | Sits at a back-friendly {70-80} cm height.",
               "planter | vegetables"),
            _k("Gas Grill", (199, 1299), "Stainless Steel | 3-Burner | Portable",
               "2-Burner | 3-Burner | 4-Burner, Black | 4-Burner, Steel",
               "Burners put out {9000-12000} BTU each."
               " | Cast-iron grates hold heat for proper sear marks."
               " | A side table folds down for storage.",
               "bbq | patio"),
            _k("Pruning Shears", (12, 69), "Bypass | Ratchet | Ergonomic",
               "Standard | Small Hands | 2-Pack",
               "Hardened steel blades cut branches up to {20-25} mm thick."
               " | A spring-loaded grip reduces hand fatigue."
               " | Replacement blades are available.",
               "tools | pruning"),
        ],
    ),
    _s(
        "power-tools", "Tools & DIY", "Drills, saws, hand tools and workshop gear.",
        "TLS", 3,
        "Torqueline | Ironvale | Buildrite | Forgeworks | Voltmaster",
        "Pro | Max | Compact | Site | Duty",
        "tools | diy | workshop",
        "weekend DIY | trade professionals | home renovations | flat-pack assembly",
        [
            _k("Cordless Drill", (59, 349), "Brushless | 18V | Compact | Hammer",
               "Bare Tool | with 2 Ah Battery | with 2 x 4 Ah Batteries",
               "The brushless motor delivers up to {40-140} Nm of torque."
               " | An LED work light brightens dark corners."
               " | Weighs just 1.{2-9} kg for overhead work.",
               "cordless | drill"),
            _k("Circular Saw", (79, 399), "Brushless | Track | Compact",
               "165 mm Blade | 190 mm Blade | Bare Tool",
               "Cuts up to {55-70} mm deep at 90°."
               " | Bevels up to {45-50}° for angled cuts."
               " | An electric brake stops the blade in seconds.",
               "saw | cordless"),
            _k("Tool Kit", (29, 249), "Mechanic's | Household | Precision",
               "65-Piece | 120-Piece | 200-Piece",
               "Chrome-vanadium steel resists wear and rust."
               " | Everything stores in a foam-lined case."
               " | Covered by a lifetime guarantee.",
               "hand-tools"),
            _k("Laser Level", (39, 299), "Self-Levelling | Cross-Line | Green Beam",
               "2-Line | 3 x 360° | with Tripod",
               "Projects lines visible up to {15-40} metres."
               " | Self-levels within ±{3-4}°."
               " | Accurate to ±0.3 mm per metre.",
               "measuring"),
        ],
        numbered=True,
    ),
    _s(
        "pet-supplies", "Pet Supplies", "Food, beds, toys and care for cats and dogs.",
        "PET", 3,
        "Pawsome | Whiskerly | Tailwind Pets | Furbish | Barkside",
        "Comfy | Play | Fresh | Nature | Trail",
        "pets",
        "senior dogs | indoor cats | long walks | playful puppies",
        [
            _k("Dog Bed", (29, 249), "Orthopaedic | Washable | Calming | Bolster",
               "Small, Grey | Medium, Grey | Large, Brown | X-Large, Navy",
               "Memory foam supports joints for dogs up to {10-45} kg."
               " | The cover unzips and is machine-washable."
               " | A non-slip base keeps it in place.",
               "dogs | washable"),
            _k("Cat Tree", (39, 249), "Multi-Level | Wall-Mounted | Sisal",
               "90 cm, Beige | 130 cm, Grey | 160 cm, Dark Grey",
               "Sisal-wrapped posts satisfy the urge to scratch."
               " | A cosy den sits {60-120} cm off the ground."
               " | Stable enough for cats up to {6-8} kg.",
               "cats"),
            _k("Dog Food", (14, 99), "Grain-Free | Puppy | Senior | Sensitive",
               "2 kg | 6 kg | 12 kg | 15 kg",
               "Made with {60-80}% fresh meat and no artificial additives."
               " | Small kibble suits smaller mouths."
               " | Added glucosamine supports healthy joints.",
               "dogs | natural"),
            _k("Dog Harness", (15, 69), "No-Pull | Reflective | Padded",
               "XS | S | M | L | XL",
               "Reflective stitching keeps evening walks safe."
               " | A front clip gently discourages pulling."
               " | Adjusts at {4-5} points for a snug fit.",
               "dogs | walking"),
        ],
    ),
    _s(
        "fitness", "Fitness Equipment", "Weights, yoga mats, bikes and home gym gear.",
        "FIT", 3,
        "Ironcore | Flexora | Pulsegear | Vitalora | Cadenza",
        "Core | Home | Studio | Flex | Prime",
        "fitness | home-gym",
        "home workouts | yoga practice | strength training | small flats",
        [
            _k("Yoga Mat", (15, 129), "Non-Slip | Extra-Thick | Cork | Travel",
               "4 mm, Purple | 6 mm, Black | 6 mm, Sage | 8 mm, Slate Grey",
               "A {4-8} mm cushioned surface protects knees and wrists."
               " | The textured top stays grippy even in hot yoga."
               " | A carry strap is included.",
               "yoga | pilates"),
            _k("Adjustable Dumbbells", (99, 699), "Quick-Change | Compact",
               "2-24 kg, Pair | 2-32 kg, Pair | 5-40 kg, Single",
               "Adjusts from {2-5} to {24-40} kg in seconds."
               " | Replaces up to {15-17} pairs of dumbbells."
               " | The storage tray doubles as a stand.",
               "strength | weights"),
            _k("Exercise Bike", (249, 1999), "Smart | Magnetic | Folding",
               "Black | White | Grey",
               "{8-32} resistance levels suit beginners and athletes alike."
               " | A near-silent magnetic flywheel won't wake the house."
               " | Connects to popular training apps over Bluetooth.",
               "cardio | cycling"),
            _k("Resistance Bands", (9, 49), "Fabric | Loop | Tube",
               "Set of 3 | Set of 5 | Set of 11",
               "Covers {5-50} kg of resistance across the set."
               " | Non-slip fabric won't roll up during squats."
               " | A mesh bag and exercise guide are included.",
               "strength | portable"),
        ],
    ),
    _s(
        "camping", "Outdoor & Camping", "Tents, sleeping bags, stoves and hiking gear.",
        "CMP", 3,
        "Trailfinch | Summitline | Wildmoss | Basecamp Co | Northridge",
        "Ridge | Trek | Alpine | Basecamp | Ranger",
        "camping | outdoor | hiking",
        "backcountry trips | festival weekends | family campsites | thru-hikes",
        [
            _k("Tent", (59, 799), "Ultralight | 3-Season | Pop-Up | Tunnel",
               "1-Person | 2-Person | 4-Person | 6-Person",
               "A {2000-5000} mm hydrostatic head keeps you dry in heavy rain."
               " | Pitches in under {3-10} minutes."
               " | Packs down to just 1.{1-9} kg per person.",
               "tent | waterproof"),
            _k("Sleeping Bag", (39, 399), "Down | Synthetic | Mummy | Packable",
               "Regular, Forest Green | Long, Orange | Regular, Navy",
               "Rated comfortable down to {-10-5} °C."
               " | Compresses to the size of a water bottle."
               " | A draught collar seals in warmth.",
               "sleeping-bag | ultralight"),
            _k("Camping Stove", (29, 149), "Compact | Two-Burner | Windproof",
               "Single Burner | Two-Burner | with Pot Set",
               "Boils a litre of water in about {3-5} minutes."
               " | Piezo ignition lights without matches."
               " | Folds into a pouch the size of a fist.",
               "stove | cooking"),
            _k("Headlamp", (12, 79), "Rechargeable | Waterproof | Red-Light",
               "200 Lumens | 400 Lumens | 800 Lumens",
               "Shines up to {80-150} metres on the brightest setting."
               " | A red mode preserves night vision."
               " | Charges over USB-C in {2-4} hours.",
               "lighting | rechargeable"),
        ],
    ),
    _s(
        "automotive", "Automotive", "Car accessories, care and electronics.",
        "AUT", 2,
        "Roadwise | Autovia | Drivewell | Gearshift | Motorist",
        "Drive | Road | Cruise | Guard | Route",
        "automotive | car",
        "daily commutes | road trips | keeping the car tidy | roadside emergencies",
        [
            _k("Dash Cam", (39, 299), "4K | Front and Rear | Compact",
               "Front Only | Front and Rear | with 64 GB Card",
               "It records with a {140-170}° field of view."
               " | Parking mode wakes on impact."
               " | GPS logs speed and location with every clip.",
               "dash-cam | safety"),
            _k("Tyre Inflator", (24, 99), "Cordless | Digital | Portable",
               "12V | Rechargeable | with Carry Case",
               "Inflates a car tyre in about {3-6} minutes."
               " | Stops automatically at your preset pressure."
               " | A built-in torch helps at night.",
               "tyres | portable"),
            _k("Jump Starter", (49, 199), "Lithium | Compact | Heavy-Duty",
               "1000 A | 2000 A | 3000 A",
               "Starts petrol engines up to {4-8} litres."
               " | Doubles as a power bank for phones."
               " | Reverse-polarity protection prevents mistakes.",
               "emergency | battery"),
            _k("Car Vacuum", (29, 129), "Cordless | Wet and Dry | Handheld",
               "Black | Grey | with Crevice Kit",
               "Suction reaches {6000-12000} Pa."
               " | Runs for {20-30} minutes per charge."
               " | A washable HEPA filter traps fine dust.",
               "cleaning | cordless"),
        ],
    ),
    _s(
        "office-supplies", "Office & Stationery", "Notebooks, pens, planners and printers.",
        "OFF", 2,
        "Paperlight | Inkwell | Deskcraft | Notable | Officio",
        "Classic | Studio | Everyday | Journal | Atlas",
        "office | stationery",
        "journaling | students | organised desks | small offices",
        [
            _k("Notebook", (5, 34), "Dotted | Lined | Hardcover | Recycled",
               "A5, Black | A5, Sage | A4, Navy | B5, Terracotta",
               "Contains {120-240} pages of {80-120} gsm paper."
               " | Lies flat when open."
               " | Numbered pages and an index keep notes organised.",
               "notebook | journaling"),
            _k("Fountain Pen", (19, 249), "Steel-Nib | Gold-Nib | Demonstrator",
               "Fine | Medium | Broad | Extra Fine",
               "Takes standard cartridges or a converter."
               " | The nib is hand-tuned for a smooth line."
               " | Arrives with {3-6} ink cartridges.",
               "pens | writing"),
            _k("Laser Printer", (119, 449), "Wireless | All-in-One | Duplex",
               "Mono | Colour | Mono, with Fax",
               "Prints up to {20-40} pages per minute."
               " | Automatic double-sided printing saves paper."
               " | Prints from phones over Wi-Fi.",
               "printer | wireless"),
        ],
    ),
    _s(
        "coffee-tea", "Coffee & Tea", "Beans, loose-leaf tea and brewing gear.",
        "COF", 2,
        "Roastery Nine | Leafwise | Highland Bean | Brewhaus | Kettleworks",
        "Morning | Origin | Reserve | Estate | Harvest",
        "coffee | tea | grocery",
        "slow mornings | home baristas | afternoon breaks | gifting",
        [
            _k("Whole Bean Coffee", (9, 39), "Single-Origin | Dark Roast | Espresso | Decaf",
               "250 g | 500 g | 1 kg",
               "Roasted in small batches within {2-7} days of dispatch."
               " | Grown at {1200-2100} metres for a bright, complex cup."
               " | Notes of dark chocolate and red berries.",
               "coffee-beans | fair-trade"),
            _k("Loose Leaf Tea", (6, 29), "Green | Earl Grey | Oolong | Chamomile",
               "50 g | 100 g | 250 g",
               "Hand-picked from a single estate."
               " | Steep at {70-95} °C for {2-4} minutes."
               " | Packed in a resealable tin.",
               "tea | organic"),
            _k("Pour-Over Kit", (19, 99), "Ceramic | Glass | Travel",
               "Starter Set | with Scale | with Gooseneck Kettle",
               "Brews {1-4} cups at a time."
               " | Includes {50-100} paper filters."
               " | The spiral ribs keep water flowing evenly.",
               "brewing | coffee"),
        ],
    ),
)
# fmt: on

_BOOK_WORDS = _t(
    "Harbour | Garden | Orchard | Tide | Lighthouse | Mountain | Island | River | Forest | Winter"
    " | Kitchen | Meadow | Compass | Lantern | Valley | Archive"
)
_OPENERS = (
    "Meet the {brand} {model} {noun}, built for {pitch}.",
    "{brand} made the {model} {noun} with {pitch} in mind.",
    "For {pitch}, {brand} offers the {model} {noun}.",
    "Designed for {pitch}: the {model} {noun} from {brand}.",
)
_BOOK_OPENERS = (
    "{model} is {noun} from {brand}, perfect for {pitch}.",
    "From {brand} comes {model}, {noun} for {pitch}.",
)
_CLOSERS = (
    "Backed by a {years}-year limited warranty.",
    "Free returns within 30 days.",
    "Ships in recyclable packaging.",
    "This listing is for the {variant} version.",
)
_DASH = "\u2013"  # en dash between a product and its variant, as shops print it
_CODE_LETTERS = "ACEGKMNQRSVXZ"
_MODEL_SUFFIXES = ("", "", "", " Pro", " Plus", " Max", " Lite", " Mini", " Ultra")
_PRICE_CENTS = ("99", "99", "99", "99", "49", "49", "95", "00", "00")
_DISCOUNTS = (5, 10, 10, 15, 15, 20, 20, 25, 30, 40)
_BESTSELLER_RATING = Decimal("4.2")
# Index = rating x 100; 0 means "no reviews yet". Formatting a Decimal per product is slow.
_RATINGS = tuple(Decimal(f"{c / 100:.2f}") if c else Decimal("0.00") for c in range(501))

_CATEGORIES = tuple(DemoCategory(s.slug, s.name, s.description) for s in _SPECS)
_SPECS_BY_SLUG = {s.slug: s for s in _SPECS}


def slugify(text: str) -> str:
    return _NON_SLUG.sub("-", text.lower()).strip("-")


@lru_cache(maxsize=8192)
def _slug_part(text: str) -> str:
    # Names are combinations of a few hundred parts; slugging parts once beats regexing every name.
    return slugify(text)


def demo_categories() -> list[DemoCategory]:
    return list(_CATEGORIES)


def price_band(category_slug: str) -> tuple[Decimal, Decimal]:
    """The inclusive price range products of a category are generated in."""
    lo, hi = _SPECS_BY_SLUG[category_slug].price_band
    return Decimal(lo), Decimal(hi)


@lru_cache(maxsize=16)
def _schedule(seed: int) -> tuple[_Spec, ...]:
    """A shuffled cycle holding each category `weight` times.

    Indexing it by product number keeps the mix weighted yet puts every category within the
    first cycle (~100 products), and it depends only on the seed, so prefixes stay stable.
    """
    cycle = [spec for spec in _SPECS for _ in range(spec.weight)]
    random.Random(f"{seed}:schedule").shuffle(cycle)
    return tuple(cycle)


def _picker(r: Callable[[], float]) -> Callable[[Sequence[_T]], _T]:
    # ~4x faster than rng.choice, which matters at 100k products x ~25 picks.
    def pick(seq: Sequence[_T]) -> _T:
        return seq[int(r() * len(seq))]

    return pick


def _model(r: Callable[[], float], pick: Callable[[Sequence[str]], str], spec: _Spec) -> str:
    if not spec.numbered:
        return pick(spec.lines)
    style = r()
    suffix = pick(_MODEL_SUFFIXES)
    if style < 0.4:
        return f"{pick(_CODE_LETTERS)}{1 + int(r() * 9)}{suffix}"
    if style < 0.8:
        return f"{pick(spec.lines)} {2 + int(r() * 14)}{suffix}"
    return f"{pick(spec.lines)}{suffix}"


def _price(r: Callable[[], float], band: tuple[int, int]) -> Decimal:
    lo, hi = band
    # Log-uniform: cheap items are more common than expensive ones, as in real catalogs.
    whole = int(math.exp(math.log(lo) + r() * (math.log(hi + 1) - math.log(lo))))
    if whole >= 100:
        whole = whole - whole % 10 + 9  # 249.99 rather than 243.99
    whole = max(lo, min(hi, whole))
    cents = "00" if whole == hi else _PRICE_CENTS[int(r() * len(_PRICE_CENTS))]
    return Decimal(f"{whole}.{cents}")


def _reviews(r: Callable[[], float]) -> tuple[Decimal, int]:
    if r() < 0.07:
        return _RATINGS[0], 0
    # Pareto-distributed (alpha 1.2): most products have a few dozen reviews, a few over 1,000.
    count = 1 + int(((1.0 - r()) ** -0.8333 - 1.0) * 40)
    if count > 2000:
        count = 1200 + int(r() * 801)
    # Sum of three uniforms: a cheap bell curve, mean 4.15, sd ~0.42, so mostly 3.5-4.8;
    # 3% are duds rated 1.0-3.5.
    bell = 4.15 + (r() + r() + r() - 1.5) * 0.84
    rating = 1.0 + r() * 2.5 if r() < 0.03 else bell
    return _RATINGS[min(500, max(100, round(rating * 100)))], count


def _product(
    index: int, spec: _Spec, rng: random.Random, pick: Callable[[Sequence[str]], str]
) -> DemoProduct:
    r = rng.random
    sku = f"{spec.sku_prefix}-{index + 1:06d}"
    kind = spec.kinds[int(r() * len(spec.kinds))]
    brand = pick(spec.brands)
    variant = pick(kind.variants)

    parts: tuple[str, ...]
    if spec.slug == "books":
        # Books read as a title and subtitle from a publisher, not as branded gadgets.
        model = f"{pick(spec.lines)} {pick(_BOOK_WORDS)}"
        noun = pick(kind.features)
        name = f"{model}: {noun} {_DASH} {variant}"
        parts = (model, noun, variant)
        opener = pick(_BOOK_OPENERS)
        noun = noun.lower()
    else:
        model = _model(r, pick, spec)
        noun = kind.noun
        feature = pick(kind.features) + " " if r() < 0.75 else ""
        name = f"{brand} {model} {feature}{noun} {_DASH} {variant}"
        parts = (brand, model, feature, noun, variant)
        opener = pick(_OPENERS)

    price = _price(r, kind.price_band)
    discount = _DISCOUNTS[int(r() * len(_DISCOUNTS))] if r() < 0.22 else 0
    stock = 0 if r() < 0.08 else min(500, 1 + int(rng.triangular(0, 500, 40)))
    rating, review_count = _reviews(r)

    # Description: an opener, 1-2 kind-specific details with concrete numbers, maybe a closer.
    sentences = [opener.format(brand=brand, model=model, noun=noun, pitch=pick(spec.pitches))]
    details = kind.details
    first = int(r() * len(details))
    picked = [details[first]]
    if r() < 0.6:
        picked.append(details[(first + 1 + int(r() * (len(details) - 1))) % len(details)])
    for template, ranges in picked:
        sentences.append(template.format(*(lo + int(r() * (hi - lo + 1)) for lo, hi in ranges)))
    if r() < 0.6:
        years = 1 + int(r() * 3)
        sentences.append(pick(_CLOSERS).format(years=years, variant=variant))

    # Tags: one or two specific to the kind, one from the category, then the generic ones.
    tags = list(kind.tags[: 1 + int(r() * 2)]) if kind.tags else []
    for tag in (pick(spec.tags), pick(spec.tags)):
        if tag not in tags:
            tags.append(tag)
            break
    if discount:
        tags.append("sale")
    if review_count >= 300 and rating >= _BESTSELLER_RATING:
        tags.append("bestseller")
    if r() < 0.12:
        tags.append("new")
    if r() < 0.08:
        tags.append("eco")
    for tag in spec.tags:  # a kind without tags still gets two
        if len(tags) >= 2:
            break
        if tag not in tags:
            tags.append(tag)

    images = tuple(f"{IMAGE_BASE_URL}/{sku}/{n}.jpg" for n in range(1, 2 + int(r() * 4)))
    return DemoProduct(
        sku=sku,
        # Equal to slugify(name); the SKU suffix makes it unique even when names repeat.
        slug="-".join([*(p for p in map(_slug_part, parts) if p), sku.lower()]),
        name=name,
        description=" ".join(sentences),
        price=price,
        currency=CURRENCY,
        discount_percent=discount,
        stock=stock,
        brand=brand,
        category_slug=spec.slug,
        tags=tuple(tags[:5]),
        images=images,
        rating=rating,
        review_count=review_count,
    )


def demo_sku(index: int, seed: int = 2026) -> str:
    """The SKU of product `index`, without generating the product (cheap existence checks)."""
    schedule = _schedule(seed)
    return f"{schedule[index % len(schedule)].sku_prefix}-{index + 1:06d}"


def demo_product(index: int, seed: int = 2026) -> DemoProduct:
    """Product `index` of the catalog for `seed`; equal to the `index`-th of `demo_products`."""
    schedule = _schedule(seed)
    rng = random.Random(f"{seed}:{index}")
    return _product(index, schedule[index % len(schedule)], rng, _picker(rng.random))


def demo_products(count: int = 1000, seed: int = 2026) -> Iterator[DemoProduct]:
    """Yield `count` products; product `i` depends only on `(seed, i)`."""
    schedule = _schedule(seed)
    # One generator reseeded per product: as independent as a fresh Random each, but cheaper.
    rng = random.Random()
    pick: Callable[[Sequence[str]], str] = _picker(rng.random)
    for index in range(count):
        rng.seed(f"{seed}:{index}")
        yield _product(index, schedule[index % len(schedule)], rng, pick)
