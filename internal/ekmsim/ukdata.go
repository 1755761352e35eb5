package ekmsim

// Word lists for seeded UK shop data. They are plain data: the generator picks
// from them, so that strings are shared by many records instead of each order
// holding its own copy.

var firstNames = []string{
	"Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Muhammad", "Thomas", "Oscar",
	"William", "James", "Henry", "Leo", "Alfie", "Joshua", "Freddie", "Archie", "Ethan", "Isaac",
	"Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Arthur", "Lucas", "Mohammed", "Logan",
	"Theo", "Harrison", "Benjamin", "Mason", "Sebastian", "Finley", "Adam", "Dylan", "Zachary", "Riley",
	"Teddy", "Theodore", "David", "Elijah", "Jake", "Toby", "Louie", "Reuben", "Arlo", "Hugo",
	"Luca", "Jaxon", "Matthew", "Harvey", "Reggie", "Michael", "Harley", "Jude", "Albert", "Tommy",
	"Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy", "Ella", "Lily",
	"Jessica", "Sophia", "Grace", "Evie", "Sophie", "Scarlett", "Chloe", "Ruby", "Florence", "Freya",
	"Daisy", "Alice", "Charlotte", "Sienna", "Phoebe", "Evelyn", "Matilda", "Millie", "Harper", "Ivy",
	"Willow", "Rosie", "Elsie", "Esme", "Emma", "Maya", "Layla", "Lucy", "Eva", "Imogen",
	"Hannah", "Holly", "Katie", "Rebecca", "Laura", "Sarah", "Claire", "Rachel", "Helen", "Joanne",
	"Karen", "Susan", "Julie", "Nicola", "Stacey", "Gemma", "Kerry", "Lisa", "Angela", "Deborah",
	"Paul", "Mark", "Andrew", "Stephen", "Richard", "Christopher", "Gareth", "Rhys", "Dafydd", "Siobhan",
	"Niamh", "Aoife", "Ciara", "Fiona", "Morag", "Callum", "Fraser", "Euan", "Hamish", "Ailsa",
	"Priya", "Aisha", "Fatima", "Zara", "Amir", "Ravi", "Sanjay", "Anjali", "Yusuf", "Bilal",
}

var lastNames = []string{
	"Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
	"Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
	"Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
	"Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
	"James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
	"Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
	"Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
	"Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
	"Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
	"Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
	"Graham", "Pearson", "Ahmed", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart",
	"Elliott", "Reynolds", "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West",
	"Lawrence", "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien",
	"Watts", "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees",
	"Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe",
	"MacDonald", "McKenzie", "Fraser", "Sinclair", "Llewellyn", "Pritchard", "Vaughan", "Doherty", "Quinn", "Nolan",
}

var streetNames = []string{
	"High", "Station", "Church", "Victoria", "Park", "Main", "Green", "Manor", "Kings", "Queens",
	"Mill", "New", "School", "The Avenue", "Windsor", "York", "Albert", "Alexandra", "Grange", "Springfield",
	"Chestnut", "Oak", "Elm", "Beech", "Willow", "Meadow", "Orchard", "Highfield", "Westfield", "Mount Pleasant",
	"Cedar", "Stanley", "Richmond", "Nelson", "Cromwell", "Clarence", "Balmoral", "Brook", "Castle", "Chapel",
	"Farm", "Hawthorn", "Holly", "Ivy", "Jubilee", "Kingsway", "Lime", "Market", "North", "Rectory",
	"Riverside", "St John's", "St Mary's", "Sycamore", "Valley", "Vicarage", "Wellington", "Woodland", "Ash", "Birch",
}

var streetSuffixes = []string{
	"Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Gardens", "Grove",
	"Terrace", "Place", "Court", "Mews", "Rise", "View",
}

var flatPrefixes = []string{"Flat 1", "Flat 2", "Flat 3", "Flat 4B", "Apartment 12", "Unit 5", "The Old Rectory", "Rose Cottage"}

// town is a post town with its county and postcode area.
type town struct {
	name, county, area string
}

var towns = []town{
	{"Leeds", "West Yorkshire", "LS"}, {"Bradford", "West Yorkshire", "BD"}, {"Sheffield", "South Yorkshire", "S"},
	{"York", "North Yorkshire", "YO"}, {"Harrogate", "North Yorkshire", "HG"}, {"Hull", "East Riding of Yorkshire", "HU"},
	{"Manchester", "Greater Manchester", "M"}, {"Stockport", "Greater Manchester", "SK"}, {"Bolton", "Greater Manchester", "BL"},
	{"Liverpool", "Merseyside", "L"}, {"Preston", "Lancashire", "PR"}, {"Lancaster", "Lancashire", "LA"},
	{"Newcastle upon Tyne", "Tyne and Wear", "NE"}, {"Sunderland", "Tyne and Wear", "SR"}, {"Durham", "County Durham", "DH"},
	{"Carlisle", "Cumbria", "CA"}, {"Birmingham", "West Midlands", "B"}, {"Coventry", "West Midlands", "CV"},
	{"Wolverhampton", "West Midlands", "WV"}, {"Leicester", "Leicestershire", "LE"}, {"Nottingham", "Nottinghamshire", "NG"},
	{"Derby", "Derbyshire", "DE"}, {"Lincoln", "Lincolnshire", "LN"}, {"Northampton", "Northamptonshire", "NN"},
	{"Worcester", "Worcestershire", "WR"}, {"Shrewsbury", "Shropshire", "SY"}, {"Stoke-on-Trent", "Staffordshire", "ST"},
	{"Norwich", "Norfolk", "NR"}, {"Ipswich", "Suffolk", "IP"}, {"Cambridge", "Cambridgeshire", "CB"},
	{"Peterborough", "Cambridgeshire", "PE"}, {"Colchester", "Essex", "CO"}, {"Chelmsford", "Essex", "CM"},
	{"Luton", "Bedfordshire", "LU"}, {"St Albans", "Hertfordshire", "AL"}, {"Oxford", "Oxfordshire", "OX"},
	{"Reading", "Berkshire", "RG"}, {"Guildford", "Surrey", "GU"}, {"Brighton", "East Sussex", "BN"},
	{"Canterbury", "Kent", "CT"}, {"Maidstone", "Kent", "ME"}, {"Tunbridge Wells", "Kent", "TN"},
	{"Southampton", "Hampshire", "SO"}, {"Portsmouth", "Hampshire", "PO"}, {"Bournemouth", "Dorset", "BH"},
	{"Salisbury", "Wiltshire", "SP"}, {"Swindon", "Wiltshire", "SN"}, {"Bath", "Somerset", "BA"},
	{"Bristol", "City of Bristol", "BS"}, {"Gloucester", "Gloucestershire", "GL"}, {"Exeter", "Devon", "EX"},
	{"Plymouth", "Devon", "PL"}, {"Truro", "Cornwall", "TR"}, {"Taunton", "Somerset", "TA"},
	{"London", "Greater London", "SW"}, {"London", "Greater London", "N"}, {"London", "Greater London", "SE"},
	{"Croydon", "Greater London", "CR"}, {"Kingston upon Thames", "Greater London", "KT"}, {"Cardiff", "South Glamorgan", "CF"},
	{"Swansea", "West Glamorgan", "SA"}, {"Newport", "Gwent", "NP"}, {"Wrexham", "Clwyd", "LL"},
	{"Edinburgh", "Midlothian", "EH"}, {"Glasgow", "Lanarkshire", "G"}, {"Aberdeen", "Aberdeenshire", "AB"},
	{"Dundee", "Angus", "DD"}, {"Inverness", "Inverness-shire", "IV"}, {"Belfast", "County Antrim", "BT"},
}

// postcodeInward are the letters used in the inward code of a UK postcode
// (C, I, K, M, O and V are never used there).
const postcodeInward = "ABDEFGHJLNPQRSTUWXYZ"

var emailDomains = []string{"example.co.uk", "example.com", "mail.example.org", "example.net", "post.example.co.uk"}

var companies = []string{"", "", "", "", "", "", "Acme Events Ltd", "Northern Crafts Co", "The Green Grocer", "Hillside Primary School", "Brightwater Studio"}

var customerNotes = []string{
	"Please leave with a neighbour if I'm out.", "It's a gift, please don't include the receipt.",
	"Safe place: the green bin by the side gate.", "Could you gift wrap this please?",
	"Delivery after 3pm please.", "Ring the bell twice, it's a bit quiet.",
}

// Catalogue words.

// productKind is a kind of item the demo shop sells.
type productKind struct {
	noun        string
	dimension   string // "" when the kind has no variants
	minPrice    float64
	maxPrice    float64
	weightKg    float64
	zeroRated   bool // UK VAT 0% (children's clothing, books)
	description string
}

var productKinds = []productKind{
	{"T-Shirt", "Size", 12, 30, 0.2, false, "<p>A soft, breathable tee cut for everyday wear. Machine washable at 30°C.</p>"},
	{"Hoodie", "Size", 30, 65, 0.6, false, "<p>A heavyweight brushed-back hoodie with a kangaroo pocket and a lined hood.</p>"},
	{"Jumper", "Size", 35, 85, 0.5, false, "<p>Knitted in the UK from responsibly sourced yarn. Hand wash or dry clean.</p>"},
	{"Socks (3 Pack)", "Size", 6, 15, 0.1, false, "<p>Cushioned-sole socks with a reinforced heel and toe.</p>"},
	{"Beanie", "Colour", 10, 25, 0.1, false, "<p>A ribbed beanie with a deep turn-up, one size fits most.</p>"},
	{"Scarf", "Colour", 15, 45, 0.2, false, "<p>A generous scarf with fringed ends, woven on traditional looms.</p>"},
	{"Mug", "Colour", 8, 18, 0.4, false, "<p>Dishwasher and microwave safe. Holds 350 ml.</p>"},
	{"Candle", "", 10, 35, 0.4, false, "<p>Hand poured soy wax candle with a cotton wick. Burn time around 40 hours.</p>"},
	{"Cushion Cover", "Colour", 15, 40, 0.3, false, "<p>45 x 45 cm cover with a concealed zip. Inner not included.</p>"},
	{"Throw", "Colour", 35, 90, 1.2, false, "<p>A generous 130 x 180 cm throw for sofa or bed.</p>"},
	{"Tea Towel", "", 5, 12, 0.1, false, "<p>Printed on heavyweight cotton, gets softer with every wash.</p>"},
	{"Notebook", "", 4, 15, 0.3, false, "<p>A5, 192 pages of 100 gsm paper, lay-flat binding.</p>"},
	{"Tote Bag", "Colour", 8, 20, 0.2, false, "<p>Sturdy canvas tote with long handles and an inner pocket.</p>"},
	{"Children's Wellies", "Size", 15, 30, 0.7, true, "<p>Waterproof natural rubber boots with easy pull-on handles.</p>"},
	{"Picture Book", "", 6, 15, 0.4, true, "<p>A hardback picture book for ages 3 to 7.</p>"},
	{"Plant Pot", "Colour", 9, 30, 0.9, false, "<p>Glazed stoneware with a drainage hole and saucer.</p>"},
	{"Wall Print", "Size", 15, 60, 0.3, false, "<p>Giclée print on 300 gsm archival paper, unframed.</p>"},
	{"Gift Card", "", 10, 50, 0, false, "<p>Sent by post in a presentation envelope.</p>"},
}

var productAdjectives = []string{
	"Classic", "Organic", "Vintage", "Handmade", "Luxury", "Everyday", "Heritage", "Cosy", "Coastal", "Highland",
	"Botanical", "Nordic", "Rustic", "Modern", "Striped", "Speckled", "Artisan", "Cottage", "Meadow", "Harbour",
}

var productMaterials = []string{
	"Cotton", "Wool", "Linen", "Merino", "Bamboo", "Stoneware", "Ceramic", "Oak", "Recycled", "Tweed",
	"Lambswool", "Jersey", "Canvas", "Soy", "Enamel",
}

var brands = []string{"Northern Thread", "Dale & Fell", "Harbour House", "Little Acorn", "Bramble & Co", "Kiln Works"}

// variantChoice is one value of a variant dimension and its SKU suffix.
type variantChoice struct {
	name, suffix string
}

var variantChoices = map[string][]variantChoice{
	"Size":   {{"Small", "S"}, {"Medium", "M"}, {"Large", "L"}, {"XL", "XL"}},
	"Colour": {{"Red", "RED"}, {"Blue", "BLU"}, {"Green", "GRN"}, {"Black", "BLK"}, {"Grey", "GRY"}, {"Navy", "NVY"}},
}

// deliveryMethod is a shipping option with its net price.
type deliveryMethod struct {
	name, company string
	price         float64
}

var deliveryMethods = []deliveryMethod{
	{"Royal Mail 2nd Class", "Royal Mail", 2.99}, {"Royal Mail 1st Class", "Royal Mail", 3.99},
	{"Royal Mail Tracked 24", "Royal Mail", 4.99}, {"DPD Next Day", "DPD", 6.99},
	{"Evri Standard", "Evri", 3.49}, {"Free UK Delivery", "Royal Mail", 0}, {"Click & Collect", "", 0},
}

// ukIPFirstOctets are first octets of address blocks held by UK ISPs.
var ukIPFirstOctets = []int{81, 82, 86, 87, 90, 92, 94, 109, 146, 176, 185, 212, 213, 217}
