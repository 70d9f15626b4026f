"""Word lists and weights the demo generators draw from (names, companies, titles, text)."""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
# (Hand-laid-out tables: the formatter would put every word on a line of its own.)

DEMO_PASSWORD = "tandem-demo"

# ---------------------------------------------------------------------------------------------
# People: name pools by origin, so that a contact in Germany is more often called Müller.


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list written as a paragraph (keeps long word lists compact)."""
    return tuple(" ".join(word.split()) for word in text.split(",") if word.strip())


@dataclass(frozen=True)
class NamePool:
    """First and last names of one origin."""

    first: tuple[str, ...]
    last: tuple[str, ...]


NAME_POOLS: dict[str, NamePool] = {
    "anglo": NamePool(
        first=_words(
            """
            James, Mary, Robert, Patricia, John, Jennifer, Michael, Linda, David, Elizabeth,
            William, Barbara, Richard, Susan, Joseph, Jessica, Thomas, Sarah, Christopher,
            Karen, Daniel, Emily, Matthew, Ashley, Andrew, Megan, Ryan, Rachel, Kevin, Laura,
            Brian, Amanda, Jason, Olivia, Ethan, Hannah, Tyler, Chloe, Nathan, Grace, Connor,
            Siobhan, Liam, Aoife, Oliver, Amelia, Harry, Isla, George, Poppy, Jack, Charlotte,
            Samuel, Abigail, Benjamin, Victoria, Dylan, Zoe, Marcus, Jasmine, Trevor, Kayla,
            Derek, Brooke, Shane, Morgan
            """
        ),
        last=_words(
            """
            Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Taylor,
            Thomas, Moore, Jackson, Martin, Thompson, White, Harris, Clark, Lewis, Robinson,
            Walker, Young, Allen, King, Wright, Scott, Hill, Green, Adams, Baker, Nelson,
            Carter, Mitchell, Roberts, Turner, Phillips, Campbell, Parker, Evans, Edwards,
            Collins, Stewart, Murphy, O'Brien, Kelly, Walsh, Byrne, Ryan, Hughes, Bennett,
            Cooper, Fletcher, Hayes, Price, Reed, Brooks, Sullivan, Foster, Graham, Ward,
            Gallagher, McCarthy
            """
        ),
    ),
    "hispanic": NamePool(
        first=_words(
            """
            Sofía, Mateo, Valentina, Santiago, Camila, Sebastián, Isabella, Diego, Lucía,
            Alejandro, Mariana, Javier, Daniela, Carlos, Gabriela, Andrés, Fernanda, Luis,
            Paula, Miguel, Carmen, José, Elena, Pablo, Ana, Jorge, Ximena, Ricardo, Natalia,
            Tomás, Renata, Emilio
            """
        ),
        last=_words(
            """
            García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez,
            Torres, Flores, Rivera, Gómez, Díaz, Morales, Reyes, Cruz, Ortiz, Gutiérrez, Chávez,
            Ramos, Vargas, Castillo, Jiménez, Romero, Herrera, Medina, Aguilar, Navarro, Molina,
            Castro, Vega, Fuentes, Rojas, Muñoz, Salazar
            """
        ),
    ),
    "portuguese": NamePool(
        first=_words(
            """
            João, Maria, Pedro, Ana, Lucas, Beatriz, Gabriel, Júlia, Rafael, Larissa, Gustavo,
            Camila, Felipe, Letícia, Thiago, Mariana, Bruno, Fernanda, Rodrigo, Carolina,
            Vinícius, Amanda, Leonardo, Isabela
            """
        ),
        last=_words(
            """
            Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes,
            Costa, Ribeiro, Martins, Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira,
            Barbosa, Rocha, Dias, Nascimento, Araújo, Moreira, Cardoso
            """
        ),
    ),
    "german": NamePool(
        first=_words(
            """
            Lukas, Anna, Leon, Lena, Finn, Laura, Jonas, Lea, Felix, Julia, Maximilian, Sophie,
            Paul, Hannah, Tobias, Katharina, Florian, Johanna, Stefan, Sabine, Andreas, Claudia,
            Markus, Nicole, Matthias, Jana, Jürgen, Birgit, Niklas, Miriam, Sebastian, Franziska
            """
        ),
        last=_words(
            """
            Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann,
            Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun,
            Krüger, Hofmann, Hartmann, Lange, Schmitt, Werner, Krause, Meier, Lehmann, Huber,
            Gruber, Steiner, Brunner, Keller
            """
        ),
    ),
    "french": NamePool(
        first=_words(
            """
            Camille, Louis, Chloé, Hugo, Manon, Lucas, Léa, Théo, Inès, Antoine, Sarah, Nicolas,
            Juliette, Julien, Mathilde, Guillaume, Margaux, Baptiste, Élodie, Maxime, Céline,
            Étienne, Amélie, Pierre, Claire, Thomas, Aurélie, Benoît
            """
        ),
        last=_words(
            """
            Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau,
            Simon, Laurent, Lefebvre, Michel, David, Bertrand, Roux, Vincent, Fournier, Morel,
            Girard, André, Mercier, Dupont, Lambert, Bonnet, François, Legrand, Garnier, Faure,
            Rousseau, Blanc, Chevalier
            """
        ),
    ),
    "dutch": NamePool(
        first=_words(
            """
            Daan, Emma, Sem, Julia, Lars, Sanne, Jesse, Fleur, Thijs, Lotte, Bram, Eva, Ruben,
            Anouk, Joost, Femke, Pieter, Marieke, Wouter, Noor, Stijn, Lieke
            """
        ),
        last=_words(
            """
            de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit,
            Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker,
            Brouwer, Peeters, Maes, Jacobs, Willems, Claes, Goossens
            """
        ),
    ),
    "nordic": NamePool(
        first=_words(
            """
            Erik, Astrid, Lars, Ingrid, Magnus, Freja, Anders, Sofie, Henrik, Maja, Oskar, Elin,
            Nils, Ida, Mikkel, Sigrid, Johan, Linnea, Søren, Karin, Mikael, Aino, Jussi, Saara
            """
        ),
        last=_words(
            """
            Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsen, Hansen, Jensen,
            Nielsen, Pedersen, Christensen, Lindqvist, Berg, Lindberg, Virtanen, Korhonen,
            Mäkinen, Nieminen, Haugen, Johansen, Dahl, Sørensen
            """
        ),
    ),
    "italian": NamePool(
        first=_words(
            """
            Giulia, Marco, Francesca, Alessandro, Chiara, Lorenzo, Sara, Matteo, Martina,
            Andrea, Elisa, Davide, Federica, Simone, Valentina, Luca, Alessia, Riccardo,
            Giorgia, Stefano
            """
        ),
        last=_words(
            """
            Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco,
            Bruno, Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti,
            Barbieri, Fontana
            """
        ),
    ),
    "slavic": NamePool(
        first=_words(
            """
            Jakub, Zuzanna, Kacper, Julia, Mateusz, Maja, Piotr, Aleksandra, Michał, Natalia,
            Tomasz, Katarzyna, Łukasz, Agnieszka, Paweł, Magdalena, Krzysztof, Monika, Andrei,
            Elena, Dmytro, Olena, Bogdan, Ivana
            """
        ),
        last=_words(
            """
            Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński,
            Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Popescu, Ionescu, Novak,
            Horvat, Kovač, Shevchenko, Bondarenko, Petrov
            """
        ),
    ),
    "indian": NamePool(
        first=_words(
            """
            Aarav, Priya, Vivaan, Ananya, Arjun, Diya, Rohan, Isha, Aditya, Kavya, Rahul, Neha,
            Vikram, Pooja, Sanjay, Meera, Karthik, Lakshmi, Nikhil, Shreya, Amit, Divya, Ravi,
            Anjali
            """
        ),
        last=_words(
            """
            Sharma, Patel, Gupta, Singh, Kumar, Reddy, Iyer, Nair, Rao, Mehta, Shah, Desai,
            Joshi, Menon, Bhat, Chopra, Malhotra, Kapoor, Verma, Agarwal, Pillai, Banerjee,
            Mukherjee, Chatterjee
            """
        ),
    ),
    "chinese": NamePool(
        first=_words(
            """
            Wei, Mei, Jun, Hao, Xin, Yu, Lin, Jia, Jian, Xiaoling, Yan, Qiang, Ying, Ming, Hui,
            Lei
            """
        ),
        last=_words(
            """
            Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Lin, Ma, Guo, He
            """
        ),
    ),
    "japanese": NamePool(
        first=_words(
            """
            Hiroshi, Yuki, Haruto, Sakura, Kenji, Aiko, Takumi, Emi, Daiki, Yui, Sota, Naomi
            """
        ),
        last=_words(
            """
            Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Nakamura, Kobayashi, Yamamoto, Kato,
            Yoshida, Yamada
            """
        ),
    ),
    "korean": NamePool(
        first=_words(
            """
            Min-jun, Seo-yeon, Ji-woo, Ha-eun, Do-yun, Soo-ah, Ji-ho, Ye-jin, Hyun-woo, Eun-ji
            """
        ),
        last=_words(
            """
            Kim, Lee, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim
            """
        ),
    ),
    "african_middle_eastern": NamePool(
        first=_words(
            """
            Amara, Kwame, Chidi, Ngozi, Tunde, Zainab, Kofi, Ama, Yusuf, Fatima, Omar, Aisha,
            Karim, Leila, Hassan, Nadia, Tariq, Samira, Ibrahim, Mariam, Thabo, Nomvula, Sipho,
            Lerato, Emre, Elif
            """
        ),
        last=_words(
            """
            Okafor, Adeyemi, Mensah, Okonkwo, Nwosu, Boateng, Owusu, Abdi, Mohamed, Haddad,
            Khalil, Mansour, Rahman, Hussain, Farouk, Nasser, Dlamini, Nkosi, Mokoena, Diallo,
            Traoré, Kamara, Y\u0131lmaz, Demir, Kaya, Şahin, Çelik, Öztürk
            """
        ),
    ),
}

# Letters that Unicode decomposition does not reduce to ASCII, for building email addresses.
TRANSLITERATE = str.maketrans({
    "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "\u0131": "i", "đ": "d", "œ": "oe", "þ": "th",
})

# A world-wide mix, used for the share of staff who are not from the local pool.
GLOBAL_ORIGINS: dict[str, float] = {
    "anglo": 30, "hispanic": 10, "indian": 12, "chinese": 6, "japanese": 2, "korean": 2,
    "african_middle_eastern": 8, "german": 5, "french": 5, "slavic": 6, "italian": 4,
    "portuguese": 4, "dutch": 3, "nordic": 3,
}

# ---------------------------------------------------------------------------------------------
# Geography: each country belongs to exactly one region, each region to one sales territory.


@dataclass(frozen=True)
class Country:
    """A country's share of the market and what its records look like."""

    code: str
    weight: float
    calling_code: str
    area_codes: tuple[str, ...]
    tlds: tuple[tuple[str, float], ...]
    origins: tuple[tuple[str, float], ...]
    legal_suffix: str


@dataclass(frozen=True)
class TerritoryPlan:
    """A sales territory: its team, region slug, countries and the reps who work it."""

    team: str
    name: str
    region: str
    countries: tuple[Country, ...]
    reps: tuple[str, ...]


def _c(code: str, weight: float, calling: str, tlds: dict[str, float], origins: dict[str, float],
       legal: str) -> Country:
    return Country(code, weight, calling, AREA_CODES.get(code, ()), tuple(tlds.items()),
                   tuple(origins.items()), legal)


# Big-city dialling codes, so phone numbers look local.
AREA_CODES: dict[str, tuple[str, ...]] = {
    "US": _words("212, 646, 415, 650, 312, 617, 206, 512, 303, 404, 305, 213, 702, 919, 503, 612"),
    "CA": ("416", "647", "604", "514", "403", "613"), "GB": ("20", "161", "121", "131", "113"),
    "IE": ("1", "21", "91"), "DE": ("30", "89", "40", "69", "221"), "FR": ("1", "4", "5"),
    "NL": ("20", "10", "30"), "ES": ("91", "93"), "IT": ("2", "6"), "CH": ("44", "22"),
    "SE": ("8", "31"), "PL": ("22", "12"), "BE": ("2", "3"), "DK": ("33", "70"),
    "AT": ("1", "662"), "NO": ("22", "55"), "FI": ("9",), "BR": ("11", "21", "31"),
    "MX": ("55", "33", "81"), "AR": ("11",), "CL": ("2",), "CO": ("1", "4"),
}

# (code, market weight, calling code, {tld: weight}, {name origin: weight}, legal suffix)
TERRITORIES: tuple[TerritoryPlan, ...] = (
    TerritoryPlan("americas", "North America", "north-america", (
        _c("US", 38, "+1", {".com": 80, ".io": 10, ".co": 5, ".ai": 5},
           {"anglo": 55, "hispanic": 14, "indian": 10, "chinese": 5, "korean": 2, "japanese": 2,
            "african_middle_eastern": 6, "slavic": 3, "italian": 3}, "Inc."),
        _c("CA", 6, "+1", {".ca": 50, ".com": 45, ".io": 5},
           {"anglo": 55, "french": 15, "indian": 10, "chinese": 8, "korean": 2,
            "african_middle_eastern": 5, "slavic": 5}, "Inc."),
    ), ("rep1", "rep2")),
    TerritoryPlan("americas", "LATAM", "latam", (
        _c("BR", 4, "+55", {".com.br": 70, ".com": 30},
           {"portuguese": 85, "italian": 5, "german": 5, "japanese": 5}, "Ltda."),
        _c("MX", 3, "+52", {".com.mx": 60, ".com": 40},
           {"hispanic": 95, "anglo": 5}, "S.A. de C.V."),
        _c("AR", 1.5, "+54", {".com.ar": 60, ".com": 40},
           {"hispanic": 80, "italian": 20}, "S.A."),
        _c("CL", 1, "+56", {".cl": 60, ".com": 40},
           {"hispanic": 95, "german": 5}, "SpA"),
        _c("CO", 1, "+57", {".com.co": 50, ".co": 20, ".com": 30},
           {"hispanic": 100}, "S.A.S."),
    ), ("rep3",)),
    TerritoryPlan("emea", "UK & Ireland", "uk-ireland", (
        _c("GB", 11, "+44", {".co.uk": 55, ".com": 35, ".io": 10},
           {"anglo": 70, "indian": 12, "african_middle_eastern": 7, "slavic": 5, "chinese": 6},
           "Ltd"),
        _c("IE", 2, "+353", {".ie": 60, ".com": 40},
           {"anglo": 85, "slavic": 10, "indian": 5}, "Ltd"),
    ), ("rep4",)),
    TerritoryPlan("emea", "Continental Europe", "europe", (
        _c("DE", 8, "+49", {".de": 70, ".com": 25, ".io": 5},
           {"german": 80, "african_middle_eastern": 8, "slavic": 7, "italian": 5}, "GmbH"),
        _c("FR", 6, "+33", {".fr": 65, ".com": 30, ".io": 5},
           {"french": 82, "african_middle_eastern": 12, "hispanic": 6}, "SAS"),
        _c("NL", 4, "+31", {".nl": 65, ".com": 30, ".io": 5},
           {"dutch": 85, "african_middle_eastern": 8, "german": 7}, "B.V."),
        _c("ES", 3, "+34", {".es": 65, ".com": 35},
           {"hispanic": 95, "french": 5}, "S.L."),
        _c("IT", 3, "+39", {".it": 70, ".com": 30},
           {"italian": 95, "slavic": 5}, "S.r.l."),
        _c("CH", 2, "+41", {".ch": 70, ".com": 30},
           {"german": 55, "french": 25, "italian": 20}, "AG"),
        _c("SE", 2, "+46", {".se": 65, ".com": 35},
           {"nordic": 90, "african_middle_eastern": 10}, "AB"),
        _c("PL", 2, "+48", {".pl": 70, ".com": 30},
           {"slavic": 100}, "sp. z o.o."),
        _c("BE", 1.5, "+32", {".be": 65, ".com": 35},
           {"dutch": 55, "french": 45}, "NV"),
        _c("DK", 1.5, "+45", {".dk": 70, ".com": 30},
           {"nordic": 100}, "A/S"),
        _c("AT", 1, "+43", {".at": 70, ".com": 30},
           {"german": 90, "slavic": 10}, "GmbH"),
        _c("NO", 1, "+47", {".no": 70, ".com": 30},
           {"nordic": 100}, "AS"),
        _c("FI", 1, "+358", {".fi": 70, ".com": 30},
           {"nordic": 100}, "Oy"),
    ), ("rep5", "rep6")),
)


# ---------------------------------------------------------------------------------------------
# The demo organisation: who logs in, with which role and team.


@dataclass(frozen=True)
class DemoUser:
    """A login the demo creates."""

    username: str
    role: str
    team: str | None
    first_name: str
    last_name: str
    sees: str


DEMO_TEAMS: dict[str, tuple[str, str]] = {
    # key: (team name, kind)
    "marketing": ("Marketing", "marketing"),
    "americas": ("Sales — Americas", "sales"),
    "emea": ("Sales — EMEA", "sales"),
}

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin", None, "Alex", "Morgan", "everything + Django admin"),
    DemoUser("marketing", "marketing", "marketing", "Maya", "Chen", "every record"),
    DemoUser("manager", "sales_manager", "americas", "Daniel", "Okafor", "both sales teams"),
    DemoUser("rep1", "sales_rep", "americas", "Riley", "Thompson", "own + team's unassigned"),
    DemoUser("rep2", "sales_rep", "americas", "Jordan", "Ramírez", "own + team's unassigned"),
    DemoUser("rep3", "sales_rep", "americas", "Camila", "Souza", "own + team's unassigned"),
    DemoUser("rep4", "sales_rep", "emea", "Oliver", "Byrne", "own + team's unassigned"),
    DemoUser("rep5", "sales_rep", "emea", "Lena", "Hoffmann", "own + team's unassigned"),
    DemoUser("rep6", "sales_rep", "emea", "Antoine", "Mercier", "own + team's unassigned"),
)

# ---------------------------------------------------------------------------------------------
# Companies: "<Compound> <industry word>", e.g. Northwind Analytics, Bluepeak Logistics.

NAME_HEADS: tuple[str, ...] = _words(
    """
    North, Blue, Silver, Iron, Bright, Clear, Red, Stone, Summit, Cedar, Pine, Oak, Maple,
    River, Lake, Sun, Star, Cloud, Wind, Storm, Frost, Gold, Green, Black, White, Swift, True,
    High, Deep, Far, Wild, Open, First, Next, Nova, Alpine, Harbor, Granite, Copper, Amber,
    Coral, Falcon, Eagle, Fox, Wolf, Bear, Lion, Orbit, Vector, Quantum, Lumen, Terra, Aqua,
    Vertex, Apex, Zen, Echo, Atlas, Polar, Crest, Sage, Birch, Willow, Ember, Hawk, Raven,
    Prime, Core, Bold, Keen, Silk, Sky, Moss
    """
)
NAME_TAILS: tuple[str, ...] = _words(
    """
    wind, peak, field, bridge, stone, gate, wave, line, point, forge, works, view, path, port,
    stack, leaf, light, ridge, water, wood, crest, brook, haven, rock, spring, mark, shore,
    star, fire, base, hub, loop, craft, mint, beam, grid, wise, scale, dale, vale, sight, flow,
    ware
    """
)


@dataclass(frozen=True)
class Industry:
    """An industry: how common it is, words for company names, revenue per employee (USD)."""

    name: str
    weight: float
    revenue_per_employee: int
    words: tuple[str, ...]


INDUSTRIES: tuple[Industry, ...] = (
    Industry("Software", 18, 220_000,
             _words("Software, Systems, Labs, Technologies, Cloud, Data, Analytics, Digital")),
    Industry("IT Services", 8, 150_000, _words("Consulting, Solutions, IT, Networks, Partners")),
    Industry("Financial Services", 8, 350_000,
             _words("Capital, Financial, Advisors, Payments, Insurance")),
    Industry("Healthcare", 7, 120_000, _words("Health, Medical, Care, Clinics")),
    Industry("Biotech & Pharma", 4, 400_000, _words("Bio, Therapeutics, Pharma, Biosciences")),
    Industry("Manufacturing", 10, 250_000,
             _words("Manufacturing, Industries, Engineering, Components, Machines")),
    Industry("Logistics", 6, 200_000, _words("Logistics, Freight, Shipping, Transport")),
    Industry("Retail & E-commerce", 8, 180_000,
             _words("Retail, Goods, Outfitters, Market, Stores")),
    Industry("Marketing & Advertising", 6, 130_000,
             _words("Media, Creative, Marketing, Studio, Agency")),
    Industry("Education", 4, 90_000, _words("Learning, Academy, Education")),
    Industry("Energy", 4, 500_000, _words("Energy, Power, Solar, Renewables")),
    Industry("Real Estate", 3, 300_000, _words("Properties, Realty, Estates")),
    Industry("Telecommunications", 3, 380_000, _words("Telecom, Communications, Connect, Mobile")),
    Industry("Hospitality & Travel", 4, 80_000, _words("Hotels, Travel, Hospitality, Resorts")),
    Industry("Professional Services", 5, 160_000, _words("Group, Associates, Advisory, Partners")),
    Industry("Food & Beverage", 4, 150_000, _words("Foods, Kitchen, Beverages, Farms, Brewing")),
    Industry("Construction", 3, 200_000, _words("Construction, Builders, Build")),
    Industry("Media & Entertainment", 3, 250_000,
             _words("Entertainment, Studios, Games, Pictures")),
)

# Personal mailbox domains: a few contacts sign up with them and have no company.
PERSONAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 60), ("outlook.com", 15), ("yahoo.com", 10), ("icloud.com", 8), ("proton.me", 4),
    ("gmx.de", 3),
)

# ---------------------------------------------------------------------------------------------
# Job titles by department and seniority.

SENIORITIES: tuple[tuple[str, float], ...] = (
    ("c_level", 6), ("vp", 9), ("director", 20), ("manager", 32), ("individual", 33),
)

DEPARTMENTS: tuple[tuple[str, float], ...] = (
    ("marketing", 30), ("sales", 20), ("operations", 12), ("it", 12), ("finance", 8),
    ("executive", 8), ("customer_success", 5), ("product", 5),
)

TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "marketing": {
        "c_level": _words("Chief Marketing Officer, CMO"),
        "vp": _words("VP Marketing, VP of Demand Generation, VP Growth"),
        "director": _words(
            "Marketing Director, Director of Demand Generation, Director of "
            "Product Marketing, Head of Marketing, Head of Growth"
        ),
        "manager": _words(
            "Marketing Manager, Marketing Operations Manager, Content Marketing "
            "Manager, Demand             Generation Manager, Digital Marketing "
            "Manager, Brand Manager"
        ),
        "individual": _words(
            "Marketing Specialist, Marketing Coordinator, SEO Specialist, "
            "Content Writer, Marketing Analyst, Growth Marketer"
        ),
    },
    "sales": {
        "c_level": _words("Chief Revenue Officer, CRO"),
        "vp": _words("VP Sales, VP Revenue Operations"),
        "director": _words(
            "Sales Director, Head of Sales, Director of Revenue Operations, Head "
            "of Sales             Development"
        ),
        "manager": _words("Sales Manager, Sales Operations Manager, SDR Manager, Account Manager"),
        "individual": _words(
            "Account Executive, Sales Development Representative, Business "
            "Development             Representative, Sales Operations Analyst"
        ),
    },
    "operations": {
        "c_level": _words("Chief Operating Officer, COO"),
        "vp": _words("VP Operations"),
        "director": _words("Head of Operations, Director of Operations"),
        "manager": _words("Operations Manager, Business Operations Manager"),
        "individual": _words("Operations Analyst, Operations Coordinator"),
    },
    "it": {
        "c_level": _words("Chief Information Officer, Chief Technology Officer, CTO"),
        "vp": _words("VP Engineering, VP IT"),
        "director": _words("IT Director, Head of IT, Director of Engineering"),
        "manager": _words("IT Manager, Engineering Manager, Systems Manager"),
        "individual": _words(
            "Systems Administrator, Software Engineer, Data Engineer, Solutions "
            "Architect"
        ),
    },
    "finance": {
        "c_level": _words("Chief Financial Officer, CFO"),
        "vp": _words("VP Finance"),
        "director": _words("Finance Director, Head of Finance, Financial Controller"),
        "manager": _words("Finance Manager, Procurement Manager"),
        "individual": _words("Financial Analyst, Accountant, Procurement Specialist"),
    },
    "executive": {
        "c_level": _words("CEO, Founder & CEO, Co-founder, Managing Director, President"),
        "vp": _words("General Manager, VP Strategy"),
        "director": _words("Director of Strategy, Chief of Staff"),
        "manager": _words("Business Manager"),
        "individual": _words("Executive Assistant, Office Manager"),
    },
    "customer_success": {
        "c_level": _words("Chief Customer Officer"),
        "vp": _words("VP Customer Success"),
        "director": _words("Head of Customer Success, Director of Customer Experience"),
        "manager": _words("Customer Success Manager, Support Manager"),
        "individual": _words("Customer Success Specialist, Support Specialist"),
    },
    "product": {
        "c_level": _words("Chief Product Officer"),
        "vp": _words("VP Product"),
        "director": _words("Head of Product, Director of Product"),
        "manager": _words("Product Manager, Senior Product Manager"),
        "individual": _words("Product Analyst, UX Designer, Product Designer"),
    },
}

# ---------------------------------------------------------------------------------------------
# Where contacts come from, and what that says about them.


@dataclass(frozen=True)
class SourcePlan:
    """An original source: its share, how often it brings a newsletter subscriber rather than
    a lead, how well its leads qualify (before normalising), and example details."""

    source: str
    weight: float
    subscriber_share: float
    quality: float
    details: tuple[str, ...]


SOURCES: tuple[SourcePlan, ...] = (
    SourcePlan("organic_search", 24, 0.35, 1, _words("google, bing, duckduckgo")),
    SourcePlan("paid_search", 14, 0.10, 1.15, _words(
        "google / brand, google / competitor terms, google / revenue analytics, bing / brand")),
    SourcePlan("email", 8, 0.60, 0.9,
               _words("newsletter, forwarded newsletter, partner newsletter")),
    SourcePlan("organic_social", 7, 0.50, 0.7, _words("linkedin, x, youtube")),
    SourcePlan("paid_social", 6, 0.30, 0.6,
               _words("linkedin / lead gen form, linkedin / retargeting, facebook / lookalike")),
    SourcePlan("referral", 9, 0.05, 1.6,
               _words("customer referral, partner referral, g2.com, capterra.com")),
    SourcePlan("events", 10, 0.05, 1.3, _words(
        "Revenue Summit {year}, Webinar: Pipeline Analytics 101, SaaS Growth Conference {year}, "
        "Marketing Ops Meetup, Webinar: Sales and Marketing Alignment")),
    SourcePlan("outbound", 12, 0.00, 1.2,
               _words("cold email sequence, cold call, linkedin outreach")),
    SourcePlan("direct", 10, 0.40, 1, ()),  # no detail: nobody knows where direct visits come from
)

SUBSCRIPTION_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    # Subscribers joined the newsletter, so most of them are still subscribed.
    "subscriber": (("subscribed", 86), ("unsubscribed", 10), ("bounced", 3), ("complained", 1)),
    "inbound": (("subscribed", 55), ("not_subscribed", 30), ("unsubscribed", 11), ("bounced", 3),
                ("complained", 1)),
    "outbound": (("not_subscribed", 88), ("unsubscribed", 8), ("bounced", 4)),
}

# ---------------------------------------------------------------------------------------------
# Lifecycle reasons.

DISQUALIFY_REASONS: dict[str, tuple[str, ...]] = {
    # Marketing weeds these out before they reach sales.
    "lead": _words("student or job seeker, competitor, fake or spam sign-up, outside our market, "
                   "duplicate record"),
    "mql": ("no budget", "no need", "not the decision maker", "bad timing", "company too small"),
    "sql": ("no budget", "no need", "bad timing", "went silent", "requirements not met"),
    "opportunity": _words("lost: chose a competitor, lost: no decision, lost: price, "
                          "lost: missing features"),
}

# ---------------------------------------------------------------------------------------------
# Activity text.

PRODUCTS: tuple[str, ...] = ("Tandem Growth", "Tandem Pro", "Tandem Enterprise")

CALL_ATTEMPT_NOTES: tuple[str, ...] = (
    "No answer, will try again tomorrow.",
    "Left a voicemail about their recent {source_phrase}.",
    "Reception could not put me through; asked for a better time.",
    "Line busy.",
)
QUALIFICATION_NOTES: tuple[str, ...] = (
    "Qualification call: {company} is reviewing how marketing hands leads to sales. Budget "
    "planned for next quarter.",
    "Spoke with {first_name}: current CRM is a spreadsheet plus a newsletter tool. Wants one "
    "funnel view for the leadership team.",
    "{first_name} leads a team of {team_size}. Pain: no idea which campaigns create pipeline.",
    "Good call. {company} missed its pipeline target last quarter and wants better lead scoring.",
    "Confirmed need, timeline and budget owner ({title}). Booked a discovery meeting.",
)
MEETING_SUBJECTS: dict[str, tuple[str, ...]] = {
    "sql": (
        "Discovery call with {company}",
        "Intro meeting: {company}",
        "Needs analysis with {first_name}",
    ),
    "opportunity": (
        "Product demo for {company}",
        "Technical deep-dive with {company} IT",
        "Pricing review with {first_name}",
        "Stakeholder review at {company}",
    ),
    "customer": (
        "Kick-off: {company} onboarding",
        "Quarterly business review with {company}",
        "Success plan check-in with {first_name}",
    ),
}
MEETING_NOTES: tuple[str, ...] = (
    "Walked through the funnel dashboard and lead routing. {first_name} asked about importing "
    "their existing contacts.",
    "Attendees: {first_name} ({title}) and two colleagues. Main concerns: data migration and "
    "training time.",
    "Strong interest in attribution reporting. Next step: share a proposal for {product}.",
    "Reviewed security questions; IT wants SSO and a data processing agreement.",
    "Agreed success criteria for a 30-day pilot.",
)
NOTE_TEXTS: dict[str, tuple[str, ...]] = {
    "sql": (
        "Sent the case study for {industry}.",
        "{company} uses a competitor today; renewal in {months} months.",
        "Champion identified: {first_name}. Economic buyer is the CFO.",
    ),
    "opportunity": (
        "Proposal sent for {product}, {seats} seats.",
        "Legal review started at {company}.",
        "Procurement asked for a 10% discount; holding firm for now.",
        "Security questionnaire returned.",
    ),
    "customer": (
        "Closed won: {product}, {seats} seats. Handover to onboarding.",
        "Onboarding going well; first campaign live.",
        "{first_name} agreed to be a reference customer.",
    ),
}
TASK_SUBJECTS: dict[str, tuple[str, ...]] = {
    "mql": ("Call {first_name} back", "Research {company} before first call"),
    "sql": (
        "Send meeting recap to {first_name}",
        "Book discovery call with {company}",
        "Share case study with {first_name}",
    ),
    "opportunity": (
        "Send proposal to {company}",
        "Follow up on proposal with {first_name}",
        "Prepare demo for {company}",
        "Chase signature at {company}",
    ),
    "customer": ("Schedule onboarding for {company}", "Check in with {first_name} after go-live"),
}
EMAIL_SUBJECTS: tuple[str, ...] = (
    "Following up on our call",
    "Resources we discussed",
    "Next steps for {company}",
    "Proposal for {company}",
    "Quick question, {first_name}",
)
